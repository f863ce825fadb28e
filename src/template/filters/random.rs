//! `random` and `shuffle`. With `seed=` the result is reproducible run to run, but the
//! sequence is Baton's own (splitmix64), not Python's Mersenne Twister: the same seed picks
//! a different item than Ansible would.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use minijinja::value::{Kwargs, ValueKind};
use minijinja::{Environment, Error, Value};

use super::fail;

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("random", random);
    env.add_filter("shuffle", shuffle);
}

/// A tiny deterministic generator; good enough for picking items, not for secrets.
struct SplitMix(u64);

impl SplitMix {
    fn from_seed(seed: Option<&Value>) -> SplitMix {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let state = match seed {
            Some(seed) => {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                seed.to_string().hash(&mut h);
                h.finish()
            }
            None => {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64);
                nanos ^ COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            }
        };
        SplitMix(state)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

/// `list | random` picks an item; `n | random(start=0, step=1)` picks from `range(start, n, step)`.
fn random(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    let seed: Option<Value> = kwargs.get("seed")?;
    let start: Option<i64> = kwargs.get("start")?;
    let step: Option<i64> = kwargs.get("step")?;
    kwargs.assert_all_used()?;
    let mut rng = SplitMix::from_seed(seed.as_ref());
    if value.kind() == ValueKind::Number {
        let end = i64::try_from(value.clone())?;
        let (start, step) = (start.unwrap_or(0), step.unwrap_or(1).max(1));
        if end <= start {
            return Err(fail(format!("random: empty range from {start} to {end}")));
        }
        let count = ((end - start) + step - 1) / step;
        return Ok(Value::from(start + step * rng.below(count as u64) as i64));
    }
    let items: Vec<Value> = value.try_iter()?.collect();
    if items.is_empty() {
        return Err(fail("random: cannot choose from an empty sequence"));
    }
    let i = rng.below(items.len() as u64) as usize;
    Ok(items[i].clone())
}

/// A shuffled copy of the list (Fisher-Yates).
fn shuffle(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    let seed: Option<Value> = kwargs.get("seed")?;
    kwargs.assert_all_used()?;
    let mut rng = SplitMix::from_seed(seed.as_ref());
    let mut items: Vec<Value> = value.try_iter()?.collect();
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
    Ok(Value::from(items))
}

#[cfg(test)]
mod unit {
    use crate::template::filters::eval;
    use serde_json::json;

    #[test]
    fn seeded_random_is_reproducible() {
        let a = eval("[1,2,3,4,5,6,7,8] | random(seed='web1')");
        for _ in 0..5 {
            assert_eq!(eval("[1,2,3,4,5,6,7,8] | random(seed='web1')"), a);
        }
        let n = eval("60 | random(seed='x')").as_i64().unwrap();
        assert!((0..60).contains(&n));
        let s = eval("10 | random(start=5, step=5, seed=1)").as_i64().unwrap();
        assert_eq!(s, 5);
    }

    #[test]
    fn shuffle_keeps_items() {
        let v = eval("[1,2,3,4,5] | shuffle(seed=1)");
        let mut items: Vec<i64> = v.as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
        assert_eq!(v, eval("[1,2,3,4,5] | shuffle(seed=1)"));
        items.sort();
        assert_eq!(items, [1, 2, 3, 4, 5]);
        assert_eq!(eval("[] | shuffle"), json!([]));
    }
}
