//! Values read ahead of their use, in one store call, for the reads that
//! follow in the same request: what a handshake-era `tools/call` reads
//! (its session, the tool's entry, the breakers) in one `get-many` rather
//! than one call each. A key read ahead answers its first read from here,
//! unless the request wrote it first; any later read goes to the store.
//! Once only, because a later read is made for a reason: ending a session
//! reads its record again after claiming the end, to find it gone if
//! another request ended it meanwhile.

/// The values read ahead: each key asked for, with its value or `None`
/// when the store had none.
#[derive(Debug, Default)]
pub struct ReadAhead {
    /// A handful of keys: a list, no hashing.
    values: Vec<(String, Option<Vec<u8>>)>,
}

impl ReadAhead {
    /// Keeps what one read of `asked` `found` (the keys that exist, with
    /// their values): every key asked for is known from now on, absent
    /// when it was not found.
    pub fn keep(&mut self, asked: &[String], mut found: Vec<(String, Vec<u8>)>) {
        for key in asked {
            let value = found.iter().position(|(k, _)| k == key).map(|i| found.swap_remove(i).1);
            self.forget(key);
            self.values.push((key.clone(), value));
        }
    }

    /// `key`'s value if it was read ahead (`Some(None)`: read, absent),
    /// once; `None` when it must be read from the store.
    pub fn take(&mut self, key: &str) -> Option<Option<Vec<u8>>> {
        let i = self.values.iter().position(|(k, _)| k == key)?;
        Some(self.values.swap_remove(i).1)
    }

    /// The values of `keys` that exist, once, when every one of them was
    /// read ahead; `None` (and nothing taken) when any must be read from
    /// the store.
    pub fn take_many(&mut self, keys: &[String]) -> Option<Vec<(String, Vec<u8>)>> {
        if !keys.iter().all(|key| self.values.iter().any(|(k, _)| k == key)) {
            return None;
        }
        Some(keys.iter().filter_map(|key| self.take(key)?.map(|value| (key.clone(), value))).collect())
    }

    /// Forgets `key`: the request writes it, so a later read goes to the store.
    pub fn forget(&mut self, key: &str) {
        self.values.retain(|(k, _)| k != key);
    }
}

/// Whether `keys` may be read ahead in one `get-many` on any of Spin's
/// stores: two or more. Spin's Redis `get-many` is `KEYS` with the keys
/// as arguments: one key would be a pattern scanned over the whole key
/// space; two or more are refused at once.
pub fn can_batch(keys: &[String]) -> bool {
    keys.len() >= 2
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
        assert_eq!(ahead.take("a"), Some(Some(b"1".to_vec())));
        assert_eq!(ahead.take("b"), Some(None), "asked and not found: known absent");
        assert_eq!(ahead.take("c"), None, "never asked: the store answers");
    }

    #[test]
    fn a_key_read_ahead_answers_once() {
        let mut ahead = ReadAhead::default();
        ahead.keep(&keys(&["a", "b"]), vec![("a".into(), b"1".to_vec())]);
        assert_eq!(ahead.take("a"), Some(Some(b"1".to_vec())));
        assert_eq!(ahead.take("a"), None, "a second read goes to the store");
        assert_eq!(ahead.take_many(&keys(&["b"])), Some(vec![]));
        assert_eq!(ahead.take_many(&keys(&["b"])), None);
    }

    #[test]
    fn many_keys_answer_only_when_all_were_read_ahead() {
        let mut ahead = ReadAhead::default();
        ahead.keep(&keys(&["a", "b", "c"]), vec![("a".into(), b"1".to_vec()), ("c".into(), b"3".to_vec())]);
        assert_eq!(ahead.take_many(&keys(&["a", "d"])), None);
        assert_eq!(ahead.take("a"), Some(Some(b"1".to_vec())), "a miss takes nothing");
        ahead.keep(&keys(&["a"]), vec![("a".into(), b"1".to_vec())]);
        assert_eq!(
            ahead.take_many(&keys(&["c", "b", "a"])),
            Some(vec![("c".into(), b"3".to_vec()), ("a".into(), b"1".to_vec())])
        );
    }

    #[test]
    fn a_written_key_goes_back_to_the_store() {
        let mut ahead = ReadAhead::default();
        ahead.keep(&keys(&["a", "b"]), vec![("a".into(), b"1".to_vec())]);
        ahead.forget("a");
        assert_eq!(ahead.take("a"), None);
        assert_eq!(ahead.take_many(&keys(&["a", "b"])), None);
        assert_eq!(ahead.take("b"), Some(None));
    }

    #[test]
    fn one_key_is_never_batched() {
        assert!(!can_batch(&[]));
        assert!(!can_batch(&keys(&["spinscope:v1:session:*"])), "on Redis a pattern over every key");
        assert!(can_batch(&keys(&["a", "b"])));
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
        assert_eq!(ahead.take("z"), None);
        assert_eq!(ahead.take("a"), Some(None));
    }
}
