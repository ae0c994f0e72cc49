//! User-agent stats of new viewers (PeerTube >= 7.2): parsed once per user agent, the names
//! shared. A popular live brings thousands of viewers with a few dozen user agents, so the
//! parse and the names' allocations are paid per user agent, not per viewer.

use crate::rules::stats::Agent;
use crate::rules::user_agent::{stats_of_header, with_body, UserAgentInput, UserAgentStats};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

/// Most user agents (and names) remembered; past it the memory starts again empty, so a flood
/// of distinct user agents costs parses, never unbounded memory.
const MAX_REMEMBERED: usize = 4_096;

/// The resolver of one stats engine.
#[derive(Default)]
pub struct UserAgents {
  memory: Mutex<Memory>,
}

#[derive(Default)]
struct Memory {
  /// Stats by `User-Agent` header, for viewers whose body gave no field.
  by_header: HashMap<Box<str>, Arc<UserAgentStats>>,
  /// Every name handed out, so equal names share one allocation.
  names: HashSet<Arc<str>>,
}

impl Memory {
  fn name(&mut self, text: &str) -> Arc<str> {
    if let Some(name) = self.names.get(text) {
      return name.clone();
    }
    if self.names.len() >= MAX_REMEMBERED {
      self.names.clear();
    }
    let name: Arc<str> = Arc::from(text);
    self.names.insert(name.clone());
    name
  }

  fn header(&mut self, user_agent: &str) -> Arc<UserAgentStats> {
    if let Some(stats) = self.by_header.get(user_agent) {
      return stats.clone();
    }
    let stats = Arc::new(stats_of_header(user_agent, &mut |text| self.name(text)));
    if self.by_header.len() >= MAX_REMEMBERED {
      self.by_header.clear();
    }
    self.by_header.insert(user_agent.into(), stats.clone());
    stats
  }
}

impl UserAgents {
  /// A resolver with nothing remembered.
  pub fn new() -> Self {
    UserAgents::default()
  }

  fn memory(&self) -> MutexGuard<'_, Memory> {
    // Only caches live here: a panic elsewhere leaves nothing half-written that matters.
    self
      .memory
      .lock()
      .unwrap_or_else(|poisoned| poisoned.into_inner())
  }

  /// The stats of a new viewer: the body's fields, the header's for the others; every field
  /// `null` when the heartbeat says nothing. Never fails.
  pub fn resolve(&self, input: Option<&UserAgentInput>) -> Agent {
    let empty = UserAgentInput::default();
    let input = input.unwrap_or(&empty);
    let mut memory = self.memory();
    let header = match (&input.user_agent, input.body_is_complete()) {
      (Some(user_agent), false) if !user_agent.is_empty() => Some(memory.header(user_agent)),
      _ => None,
    };
    if input.body_is_empty() {
      return Some(header.unwrap_or_default());
    }
    Some(Arc::new(with_body(input, header.as_deref(), &mut |text| {
      memory.name(text)
    })))
  }

  /// User agents and names remembered (tests, diagnostics).
  pub fn remembered(&self) -> (usize, usize) {
    let memory = self.memory();
    (memory.by_header.len(), memory.names.len())
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::rules::user_agent::Device;

  const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36";

  fn header(ua: &str) -> UserAgentInput {
    UserAgentInput {
      user_agent: Some(ua.into()),
      ..UserAgentInput::default()
    }
  }

  #[test]
  fn one_parse_and_one_allocation_per_user_agent() {
    let agents = UserAgents::new();
    let a = agents.resolve(Some(&header(CHROME))).unwrap();
    let b = agents.resolve(Some(&header(CHROME))).unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(a.client.as_deref(), Some("Chrome"));
    assert_eq!(a.device, Some(Device::Desktop));
    assert_eq!(agents.remembered(), (1, 2));
    let edge = agents
      .resolve(Some(&header(&format!("{CHROME} Edg/132.0.0.0"))))
      .unwrap();
    assert!(Arc::ptr_eq(
      edge.operating_system.as_ref().unwrap(),
      a.operating_system.as_ref().unwrap()
    ));
  }

  #[test]
  fn nothing_said_is_every_field_null() {
    let agents = UserAgents::new();
    assert_eq!(
      agents.resolve(None).as_deref(),
      Some(&UserAgentStats::default())
    );
    assert_eq!(
      agents.resolve(Some(&header(""))).as_deref(),
      Some(&UserAgentStats::default())
    );
  }

  #[test]
  fn body_wins_and_a_complete_body_skips_the_parse() {
    let agents = UserAgents::new();
    let input = UserAgentInput {
      client: Some("PeerTube Android".into()),
      device: Some(Some(Device::Tablet)),
      operating_system: Some("Android".into()),
      ..header(CHROME)
    };
    let stats = agents.resolve(Some(&input)).unwrap();
    assert_eq!(stats.client.as_deref(), Some("PeerTube Android"));
    assert_eq!(stats.device, Some(Device::Tablet));
    assert_eq!(agents.remembered(), (0, 2));
  }

  #[test]
  fn memory_is_bounded() {
    let agents = UserAgents::new();
    for i in 0..(MAX_REMEMBERED + 10) {
      agents.resolve(Some(&header(&format!("Bot{i}/1.0"))));
    }
    assert!(agents.remembered().0 <= MAX_REMEMBERED);
  }
}
