use super::*;

fn parsed(ua: &str) -> (Option<&str>, Option<&str>, Option<&str>) {
  let p = parse_user_agent(ua);
  (p.client, p.device.map(Device::as_str), p.operating_system)
}

/// The three user agents of PeerTube's `video-views-user-agent-stats` test.
#[test]
fn peertube_test_agents() {
  assert_eq!(
    parsed("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36 Edg/132.0.0.0"),
    (Some("Edge"), Some("desktop"), Some("Windows"))
  );
  assert_eq!(
    parsed("Mozilla/5.0 (Linux; Android 10; HD1913) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.6943.49 Mobile Safari/537.36 EdgA/131.0.2903.87"),
    (Some("Edge"), Some("mobile"), Some("Android"))
  );
  assert_eq!(
    parsed("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36"),
    (Some("Chrome"), Some("desktop"), Some("Linux"))
  );
}

#[test]
fn nothing_recognised_is_none() {
  assert_eq!(parsed(""), (None, None, None));
  assert_eq!(parsed("   "), (None, None, None));
  assert_eq!(parsed("curl/8.5.0"), (None, None, None));
}

#[test]
fn apple_and_android_devices() {
  assert_eq!(
    parsed("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"),
    (Some("Mobile Safari"), Some("mobile"), Some("iOS"))
  );
  assert_eq!(
    parsed("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"),
    (Some("Mobile Safari"), Some("tablet"), Some("iOS"))
  );
  assert_eq!(
    parsed("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"),
    (Some("Chrome"), Some("tablet"), Some("Android"))
  );
  assert_eq!(
    parsed("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"),
    (Some("Safari"), Some("desktop"), Some("macOS"))
  );
}

#[test]
fn cut_at_500_utf16_units_never_inside_a_character() {
  let long = format!("{}Firefox/1.0", "é".repeat(499));
  assert_eq!(text::Text::new(&long).len(), 499 * 2 + 1);
  let astral = "😀".repeat(300);
  assert_eq!(text::Text::new(&astral).len(), 250 * 4);
}

#[test]
fn device_names_are_peertubes() {
  for device in Device::ALL {
    assert_eq!(Device::from_name(device.as_str()), Some(device));
  }
  assert_eq!(Device::from_name("Mobile"), None);
  assert_eq!(Device::from_name("phone"), None);
}
