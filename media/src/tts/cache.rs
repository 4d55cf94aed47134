//! The disk cache of rendered speech, with a size limit.
//!
//! One 8 kHz 16-bit WAV per (engine settings, voice, text), named by the
//! SHA-256 of the three, so it survives restarts and is shared by every
//! campaign on the machine. An index in memory keeps sizes and recency;
//! when the folder grows past its limit, the least recently used files go
//! until it is under 90 % of it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use super::TtsError;

#[derive(Debug)]
struct Entry {
    size: u64,
    last_used: u64,
}

#[derive(Debug, Default)]
struct Index {
    entries: HashMap<String, Entry>,
    total: u64,
    clock: u64,
}

/// Rendered speech on disk.
#[derive(Debug)]
pub struct TtsCache {
    dir: PathBuf,
    limit_bytes: u64,
    index: Mutex<Index>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl TtsCache {
    /// Opens (creating) the cache folder and indexes what it holds.
    pub fn open(dir: &Path, limit_bytes: u64) -> Result<TtsCache, TtsError> {
        let io = |source| TtsError::Cache {
            path: dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut found: Vec<(SystemTime, String, u64)> = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(key) = name.strip_suffix(".wav") else {
                continue;
            };
            let meta = entry.metadata().map_err(io)?;
            found.push((
                meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                key.to_owned(),
                meta.len(),
            ));
        }
        // Older files count as less recently used.
        found.sort();
        let mut index = Index::default();
        for (_, key, size) in found {
            index.clock += 1;
            index.total += size;
            index.entries.insert(
                key,
                Entry {
                    size,
                    last_used: index.clock,
                },
            );
        }
        Ok(TtsCache {
            dir: dir.to_owned(),
            limit_bytes,
            index: Mutex::new(index),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        })
    }

    /// The cache key of a rendering.
    pub fn key(engine: &str, voice: &str, text: &str) -> String {
        let mut hash = Sha256::new();
        for part in [engine, voice, text] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part.as_bytes());
        }
        hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.wav"))
    }

    fn index(&self) -> std::sync::MutexGuard<'_, Index> {
        self.index
            .lock()
            .expect("the cache index lock is never poisoned")
    }

    /// The samples stored under `key`, if any.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<i16>>, TtsError> {
        {
            let mut index = self.index();
            index.clock += 1;
            let now = index.clock;
            match index.entries.get_mut(key) {
                Some(entry) => entry.last_used = now,
                None => {
                    self.misses.fetch_add(1, Ordering::Relaxed);
                    return Ok(None);
                }
            }
        }
        let path = self.path(key);
        let read = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<i16>> {
            // Touch it, so the order survives a restart.
            std::fs::File::options()
                .write(true)
                .open(&path)?
                .set_modified(SystemTime::now())?;
            let reader = hound::WavReader::open(&path).map_err(std::io::Error::other)?;
            reader
                .into_samples::<i16>()
                .collect::<Result<_, _>>()
                .map_err(std::io::Error::other)
        })
        .await
        .map_err(|e| TtsError::Cache {
            path: self.dir.clone(),
            source: std::io::Error::other(e),
        })?;
        match read {
            Ok(samples) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Ok(Some(samples))
            }
            // Deleted or damaged behind our back: render it again.
            Err(_) => {
                let mut index = self.index();
                if let Some(entry) = index.entries.remove(key) {
                    index.total -= entry.size;
                }
                self.misses.fetch_add(1, Ordering::Relaxed);
                Ok(None)
            }
        }
    }

    /// Stores samples under `key` (written whole, then renamed into place).
    pub async fn put(&self, key: &str, samples: &[i16]) -> Result<(), TtsError> {
        let path = self.path(key);
        let temporary = self
            .dir
            .join(format!("{key}.{:x}.tmp", rand::random::<u64>()));
        let samples = samples.to_vec();
        let written = tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
            let spec = hound::WavSpec {
                channels: 1,
                sample_rate: 8_000,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            };
            let mut writer =
                hound::WavWriter::create(&temporary, spec).map_err(std::io::Error::other)?;
            for s in samples {
                writer.write_sample(s).map_err(std::io::Error::other)?;
            }
            writer.finalize().map_err(std::io::Error::other)?;
            std::fs::rename(&temporary, &path)?;
            Ok(std::fs::metadata(&path)?.len())
        })
        .await
        .map_err(std::io::Error::other)
        .and_then(|r| r)
        .map_err(|source| TtsError::Cache {
            path: self.dir.clone(),
            source,
        })?;
        let evict = {
            let mut index = self.index();
            index.clock += 1;
            let now = index.clock;
            if let Some(old) = index.entries.insert(
                key.to_owned(),
                Entry {
                    size: written,
                    last_used: now,
                },
            ) {
                index.total -= old.size;
            }
            index.total += written;
            self.take_evictions(&mut index)
        };
        for key in evict {
            // Another process may have removed it already.
            let _ = std::fs::remove_file(self.path(&key));
        }
        Ok(())
    }

    fn take_evictions(&self, index: &mut Index) -> Vec<String> {
        if index.total <= self.limit_bytes {
            return Vec::new();
        }
        let target = self.limit_bytes / 10 * 9;
        let mut by_age: Vec<(u64, String)> = index
            .entries
            .iter()
            .map(|(k, e)| (e.last_used, k.clone()))
            .collect();
        by_age.sort();
        let mut evicted = Vec::new();
        for (_, key) in by_age {
            if index.total <= target {
                break;
            }
            if let Some(entry) = index.entries.remove(&key) {
                index.total -= entry.size;
                evicted.push(key);
            }
        }
        evicted
    }

    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    /// Bytes the cache holds now.
    pub fn size(&self) -> u64 {
        self.index().total
    }
}
