//! Viewer identity (B1-B3): the client's session id, or a hash of the IP.

use sha2::{Digest, Sha256};

/// PeerTube hashes `CONFIG.SECRETS + '-' + ip`, and `CONFIG.SECRETS` is an object, so the salt
/// is literally this string (quirk Q1, kept so dedup keys match PeerTube's).
pub const PEERTUBE_SALT: &str = "[object Object]";

/// The identity of a viewer: `session_id` when it is given and trusted, else the lowercase hex
/// `sha256(salt + '-' + ip)` (`ip` absent: PeerTube hashes `"null"`).
pub fn viewer_identity(
  session_id: Option<&str>,
  trust_session_id: bool,
  ip: Option<&str>,
  salt: &str,
) -> String {
  match session_id {
    Some(session) if trust_session_id && !session.is_empty() => session.to_string(),
    _ => hashed_ip(ip.unwrap_or("null"), salt),
  }
}

fn hashed_ip(ip: &str, salt: &str) -> String {
  let mut hasher = Sha256::new();
  hasher.update(salt.as_bytes());
  hasher.update(b"-");
  hasher.update(ip.as_bytes());
  let digest = hasher.finalize();
  let mut hex = String::with_capacity(64);
  for byte in digest {
    hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
    hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
  }
  hex
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn hashes_like_peertube() {
    // node -e "console.log(require('crypto').createHash('sha256').update('[object Object]-1.2.3.4').digest('hex'))"
    assert_eq!(
      viewer_identity(None, true, Some("1.2.3.4"), PEERTUBE_SALT),
      "095342eea34b4f2ec22ce310499072db0cf064a6b5f9049c1d9dbd7b4812362a"
    );
  }

  #[test]
  fn session_id_only_when_trusted() {
    assert_eq!(
      viewer_identity(Some("abc"), true, Some("1.2.3.4"), PEERTUBE_SALT),
      "abc"
    );
    assert_eq!(
      viewer_identity(Some("abc"), false, Some("1.2.3.4"), PEERTUBE_SALT),
      viewer_identity(None, true, Some("1.2.3.4"), PEERTUBE_SALT)
    );
    assert_ne!(
      viewer_identity(None, true, Some("1.2.3.4"), "real-secret"),
      viewer_identity(None, true, Some("1.2.3.4"), PEERTUBE_SALT)
    );
    assert_eq!(viewer_identity(None, true, None, PEERTUBE_SALT).len(), 64);
  }
}
