//! Models loaded once for several runs: the samples of a multi-sample run each start an
//! embedding engine, and every engine's device workers get the model their device already
//! holds instead of reading the weights again (ESM-2 3B: 11 GB and seconds per device).
use std::sync::{Arc, Mutex, PoisonError};

use tch::{Device, Tensor};

use super::encoder::EncoderFactory;
use super::EmbedError;
use crate::encode::Encode;

type Shared = Arc<Mutex<Box<dyn Encode>>>;

/// An [`EncoderFactory`] that loads through `inner` once per device and hands out the same
/// model afterwards. A worker uses its model alone (one worker per device and model), so
/// the lock is never contended; it only makes the hand-over between runs sound.
pub struct KeepLoaded {
    inner: Box<dyn EncoderFactory>,
    loaded: Mutex<Vec<(Device, Shared)>>,
}

impl KeepLoaded {
    pub fn new(inner: Box<dyn EncoderFactory>) -> Self {
        Self {
            inner,
            loaded: Mutex::new(Vec::new()),
        }
    }

    /// How many devices hold a loaded copy.
    pub fn loaded_devices(&self) -> usize {
        self.loaded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl EncoderFactory for KeepLoaded {
    fn load(&self, device: Device) -> Result<Box<dyn Encode>, EmbedError> {
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, model)) = loaded.iter().find(|(d, _)| *d == device) {
            return Ok(Box::new(SharedEncoder(Arc::clone(model))));
        }
        // Loaded under the lock: two workers of one device never load it twice.
        let model: Shared = Arc::new(Mutex::new(self.inner.load(device)?));
        loaded.push((device, Arc::clone(&model)));
        Ok(Box::new(SharedEncoder(model)))
    }
}

/// A worker's handle on a kept model.
struct SharedEncoder(Shared);

impl Encode for SharedEncoder {
    fn dim(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).dim()
    }

    fn embed(&self, ids: &Tensor, lengths: &[i64]) -> Result<Tensor, tch::TchError> {
        let model = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        model.embed(ids, lengths)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Fixed(usize);

    impl Encode for Fixed {
        fn dim(&self) -> usize {
            self.0
        }

        fn embed(&self, ids: &Tensor, _: &[i64]) -> Result<Tensor, tch::TchError> {
            Ok(Tensor::zeros(
                [ids.size()[0], self.0 as i64],
                tch::kind::FLOAT_CPU,
            ))
        }
    }

    #[test]
    fn each_device_loads_once_and_later_runs_share_the_model() {
        let loads = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&loads);
        let inner = move |_: Device| -> Result<Box<dyn Encode>, EmbedError> {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(Box::new(Fixed(3)))
        };
        let kept = KeepLoaded::new(Box::new(inner));
        for _run in 0..3 {
            // Each run's worker loads on its own thread, as the embedding engine does.
            std::thread::scope(|s| {
                s.spawn(|| {
                    let model = kept.load(Device::Cpu).unwrap();
                    let ids = Tensor::zeros([2, 4], tch::kind::INT64_CPU);
                    assert_eq!(model.embed(&ids, &[4, 4]).unwrap().size(), [2, 3]);
                });
            });
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert_eq!(kept.loaded_devices(), 1);
    }

    #[test]
    fn a_failed_load_is_not_kept() {
        let inner = |_: Device| -> Result<Box<dyn Encode>, EmbedError> {
            Err(EmbedError::Settings("no weights".into()))
        };
        let kept = KeepLoaded::new(Box::new(inner));
        assert!(kept.load(Device::Cpu).is_err());
        assert_eq!(kept.loaded_devices(), 0);
    }
}
