//! Values read ahead of their use, in one store call, for the reads that
//! follow in the same request: what a handshake-era `tools/call` reads
//! (its session, the tool's entry, the breakers) in one `get-many` rather
//! than one call each. A key read ahead answers from here until the
//! request writes it; a key not read ahead goes to the store.

use std::collections::HashMap;

/// The values read ahead: each key asked for, with its value or `None`
/// when the store had none.
#[derive(Debug, Default)]
pub struct ReadAhead {
    values: HashMap<String, Option<Vec<u8>>>,
}

impl ReadAhead {
    /// Keeps what one read of `asked` `found` (the keys that exist, with
    /// their values): every key asked for is known from now on, absent
    /// when it was not found.
    pub fn keep(&mut self, asked: &[String], found: Vec<(String, Vec<u8>)>) {
        for key in asked {
            self.values.insert(key.clone(), None);
        }
        for (key, value) in found.into_iter().filter(|(k, _)| asked.contains(k)) {
            self.values.insert(key, Some(value));
        }
    }

    /// `key`'s value if it was read ahead (`Some(None)`: read, absent);
    /// `None` when it must be read from the store.
    pub fn get(&self, key: &str) -> Option<Option<Vec<u8>>> {
        self.values.get(key).cloned()
    }

    /// The values of `keys` that exist, when every one of them was read
    /// ahead; `None` when any must be read from the store.
    pub fn get_many(&self, keys: &[String]) -> Option<Vec<(String, Vec<u8>)>> {
        let mut found = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(value) = self.values.get(key)?.clone() {
                found.push((key.clone(), value));
            }
        }
        Some(found)
    }

    /// Forgets `key`: the request writes it, so a later read goes to the store.
    pub fn forget(&mut self, key: &str) {
        self.values.remove(key);
    }
}

/// Whether a read ahead failed because the store was Spin's Redis store:
/// its `get-many` sends `KEYS` with the keys as arguments, which Redis
/// refuses at once for two or more. Spin's other stores read many keys
/// in one call, so the refusal tells the store (and its counters'
/// encoding) without a read of the encoding marker.
pub fn refused_by_redis(message: &str) -> bool {
    message.contains("wrong number of arguments for 'keys' command")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_key_read_ahead_answers_present_or_absent() {
        let mut ahead = ReadAhead::default();
        ahead.keep(&keys(&["a", "b"]), vec![("a".into(), b"1".to_vec())]);
        assert_eq!(ahead.get("a"), Some(Some(b"1".to_vec())));
        assert_eq!(ahead.get("b"), Some(None), "asked and not found: known absent");
        assert_eq!(ahead.get("c"), None, "never asked: the store answers");
    }

    #[test]
    fn many_keys_answer_only_when_all_were_read_ahead() {
        let mut ahead = ReadAhead::default();
        ahead.keep(&keys(&["a", "b", "c"]), vec![("a".into(), b"1".to_vec()), ("c".into(), b"3".to_vec())]);
        assert_eq!(
            ahead.get_many(&keys(&["c", "b", "a"])),
            Some(vec![("c".into(), b"3".to_vec()), ("a".into(), b"1".to_vec())])
        );
        assert_eq!(ahead.get_many(&keys(&["a", "d"])), None);
    }

    #[test]
    fn a_written_key_goes_back_to_the_store() {
        let mut ahead = ReadAhead::default();
        ahead.keep(&keys(&["a", "b"]), vec![("a".into(), b"1".to_vec())]);
        ahead.forget("a");
        assert_eq!(ahead.get("a"), None);
        assert_eq!(ahead.get_many(&keys(&["a", "b"])), None);
        assert_eq!(ahead.get("b"), Some(None));
    }

    #[test]
    fn only_redis_refusing_keys_tells_the_store() {
        // What Spin's Redis store reports (redis-rs formats the server's error).
        assert!(refused_by_redis(
            "An error was signalled by the server - ResponseError: wrong number of arguments for 'keys' command"
        ));
        assert!(!refused_by_redis("wrong number of arguments to function rarray()"));
        assert!(!refused_by_redis("database is locked"));
    }

    #[test]
    fn a_store_that_answers_keys_not_asked_for_adds_nothing() {
        let mut ahead = ReadAhead::default();
        ahead.keep(&keys(&["a"]), vec![("z".into(), b"?".to_vec())]);
        assert_eq!(ahead.get("z"), None);
        assert_eq!(ahead.get("a"), Some(None));
    }
}
