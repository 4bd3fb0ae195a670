//! Which of the two metrics layouts a store keeps (docs/metrics.md): the
//! one fact the metrics sink ([`crate::metrics_sink`]) decides everything
//! else by, for writing (its `record`) and reading (its `collect`) alike.

use crate::kv::{Encoding, KvError, Store};

/// How the metrics are laid out in a store: chosen per store, at run time,
/// from what its compare-and-swap can be trusted with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One key per series field, moved by `increment` alone
    /// (`spinscope::metrics::counters`): for Spin's Redis store, whose
    /// compare-and-swap reports failure even when applied and opens a
    /// connection each time.
    Counters,
    /// One observation record per recorded request (one `set`), folded into
    /// the fold record by a compare-and-swap of that existing record
    /// ([`crate::metrics_fold`]): for Spin's SQLite stores (files or in
    /// memory), whose swap of an existing key is a sound
    /// `UPDATE ... WHERE value = old`. Also for a store that encodes its
    /// counters in any third way: it needs only `set`, `get-many`,
    /// `delete-many` and that swap.
    Observations,
}

impl Layout {
    /// The layout of `store`, told by how it encodes the counters
    /// `increment` keeps ([`Store::encoding`]: decimal text is Spin's
    /// Redis store, 8 bytes little-endian its SQLite store). One `get` of
    /// the store's marker (created by the first caller ever).
    pub fn detect(store: &Store) -> Result<Layout, KvError> {
        Ok(match store.encoding()? {
            Encoding::Decimal => Layout::Counters,
            Encoding::LittleEndian => Layout::Observations,
        })
    }
}
