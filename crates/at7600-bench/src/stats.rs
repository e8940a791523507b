//! Medians, percentiles and per-pair ratios.

/// The `p`-th percentile (0..=100) of `samples` by the nearest-rank method; `None` when
/// there are no samples.
pub fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// The median of `samples` (the mean of the two middle ones for an even count).
pub fn median(samples: &[f64]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if mid * 2 == sorted.len() {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    })
}

/// The ratios ours/reference of each pair (pairs whose reference is 0 are skipped).
pub fn pair_ratios(ours: &[f64], reference: &[f64]) -> Vec<f64> {
    ours.iter()
        .zip(reference)
        .filter(|(_, r)| **r != 0.0)
        .map(|(o, r)| o / r)
        .collect()
}

/// Median, smallest and largest of some values.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Spread {
    /// The median.
    pub median: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
}

impl Spread {
    /// `None` when there are no values.
    pub fn of(values: &[f64]) -> Option<Spread> {
        Some(Spread {
            median: median(values)?,
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn p99_is_a_sample_near_the_top() {
        let samples: Vec<f64> = (1..=1000).map(f64::from).collect();
        assert_eq!(percentile(&samples, 99.0), Some(990.0));
        assert_eq!(percentile(&samples, 50.0), Some(500.0));
        assert_eq!(percentile(&samples, 100.0), Some(1000.0));
        assert_eq!(percentile(&[5.0], 99.0), Some(5.0));
    }

    #[test]
    fn ratios_are_taken_per_pair_then_summarised() {
        let ours = [10.0, 30.0, 20.0];
        let reference = [20.0, 20.0, 10.0];
        let ratios = pair_ratios(&ours, &reference);
        assert_eq!(ratios, vec![0.5, 1.5, 2.0]);
        let s = Spread::of(&ratios).expect("values");
        assert_eq!((s.median, s.min, s.max), (1.5, 0.5, 2.0));
    }

    #[test]
    fn a_zero_reference_gives_no_ratio() {
        assert!(pair_ratios(&[0.0, 1.0], &[0.0, 2.0]) == vec![0.5]);
    }
}
