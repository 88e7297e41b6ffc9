//! [`SortedMap`]: the string-keyed maps of [`crate::memstore`] (key
//! records, aliases, grants) and of a policy request's condition values
//! ([`crate::policy::ConditionValues`]), as one vector sorted by key.
//!
//! A `BTreeMap<String, V>` compiles its node code (search, insertion,
//! rebalancing, iteration) once per value type: about 13–15 KB of
//! WebAssembly for each of key records, aliases and grants (5 KB for
//! condition values). A sorted
//! vector of `(String, Box<V>)` needs a binary search and one `memmove`
//! per insertion or removal, the same machine code for every `V` (the
//! values are boxed, so every element has the layout of two pointers and a
//! length), which the optimizer folds into one copy. The boxes also keep
//! the `memmove` short: 16 bytes per record on wasm32, whatever the record.
//!
//! Order, lookups and iteration are those of `BTreeMap<String, V>`: keys
//! ascend by their UTF-8 bytes.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

/// A map from strings to `V`, ascending by key bytes (the subset of
/// `BTreeMap<String, V>`'s API that [`crate::memstore`] and
/// [`crate::policy::PolicyRequest`] use, with the same results).
#[derive(Clone)]
pub struct SortedMap<V> {
    rows: Vec<(String, Box<V>)>,
}

impl<V> Default for SortedMap<V> {
    fn default() -> Self {
        SortedMap { rows: Vec::new() }
    }
}

impl<V: core::fmt::Debug> core::fmt::Debug for SortedMap<V> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<V> SortedMap<V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// `Ok(index)` of `key`, or `Err(index)` where it would be inserted.
    fn find(&self, key: &str) -> core::result::Result<usize, usize> {
        self.rows.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.find(key).ok().map(|i| &*self.rows[i].1)
    }

    /// The value of `key`, to change in place.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        let i = self.find(key).ok()?;
        Some(&mut *self.rows[i].1)
    }

    /// Sets `key` to `value`; returns the value it replaced.
    pub fn insert(&mut self, key: String, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(*core::mem::replace(&mut self.rows[i].1, Box::new(value))),
            Err(i) => {
                self.rows.insert(i, (key, Box::new(value)));
                None
            }
        }
    }

    /// Removes `key`; returns its value.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        let i = self.find(key).ok()?;
        Some(*self.rows.remove(i).1)
    }

    /// Keeps the entries for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&String, &mut V) -> bool) {
        self.rows.retain_mut(|(k, v)| keep(k, v));
    }

    /// The values whose keys come after `key` (every value when `None`),
    /// in ascending key order.
    pub fn after(&self, key: Option<&str>) -> impl Iterator<Item = &V> {
        let start = key.map_or(0, |k| match self.find(k) {
            Ok(i) => i + 1,
            Err(i) => i,
        });
        self.rows[start..].iter().map(|(_, v)| &**v)
    }

    /// The entries in ascending key order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.rows.iter().map(|(k, v)| (k, &**v))
    }

    /// The entries whose key is `from` or after it, in ascending key order.
    pub fn iter_from(&self, from: &str) -> impl Iterator<Item = (&String, &V)> {
        let start = self.find(from).unwrap_or_else(|i| i);
        self.rows[start..].iter().map(|(k, v)| (k, &**v))
    }

    /// The values in ascending key order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.rows.iter().map(|(_, v)| &**v)
    }
}

#[cfg(test)]
mod tests {
    use super::SortedMap;
    use alloc::collections::BTreeMap;
    use alloc::string::{String, ToString};
    use alloc::vec::Vec;

    /// Every operation agrees with `BTreeMap<String, u32>` over a sequence
    /// of inserts, replacements, removals and a retain, including keys
    /// that differ only in bytes above ASCII.
    #[test]
    fn behaves_as_btreemap() {
        let mut m = SortedMap::new();
        let mut b = BTreeMap::new();
        let keys = [
            "k/2", "k/10", "a", "é", "k/", "z", "k/2", "", "e\u{301}", "a",
        ];
        for (i, k) in keys.iter().enumerate() {
            let v = u32::try_from(i).unwrap();
            assert_eq!(m.insert(k.to_string(), v), b.insert(k.to_string(), v));
            assert_eq!(m.len(), b.len());
        }
        let both = |m: &SortedMap<u32>, b: &BTreeMap<String, u32>| {
            let got: Vec<(String, u32)> = m.iter().map(|(k, v)| (k.clone(), *v)).collect();
            let want: Vec<(String, u32)> = b.iter().map(|(k, v)| (k.clone(), *v)).collect();
            assert_eq!(got, want);
            assert!(m.values().copied().eq(b.values().copied()));
        };
        both(&m, &b);
        for k in ["k/", "k/3", "", "zz"] {
            let got: Vec<&String> = m.iter_from(k).map(|(k, _)| k).collect();
            let want: Vec<&String> = b.range(k.to_string()..).map(|(k, _)| k).collect();
            assert_eq!(got, want, "from {k:?}");
        }
        for k in ["a", "missing", "é"] {
            assert_eq!(m.get(k), b.get(k));
            assert_eq!(m.get_mut(k).map(|v| *v), b.get_mut(k).map(|v| *v));
            assert_eq!(m.remove(k), b.remove(k));
            assert_eq!(m.get(k), None);
        }
        m.retain(|k, v| {
            *v += 1;
            k.starts_with('k')
        });
        b.retain(|k, v| {
            *v += 1;
            k.starts_with('k')
        });
        both(&m, &b);
        if let Some(v) = m.get_mut("k/2") {
            *v = 99;
        }
        b.insert("k/2".to_string(), 99);
        both(&m, &b);
        assert_eq!(m.is_empty(), b.is_empty());
    }
}
