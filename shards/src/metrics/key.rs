//! Metric identity: a static name plus optional labels.

use std::fmt;

/// A metric's name and labels. Labels are kept sorted by label name so equal
/// label sets compare equal whatever order they were given in.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MetricKey {
    pub name: &'static str,
    pub labels: Vec<(&'static str, String)>,
}

impl MetricKey {
    pub fn new(name: &'static str) -> Self {
        MetricKey {
            name,
            labels: Vec::new(),
        }
    }

    /// Adds (or replaces) a label.
    pub fn label(mut self, name: &'static str, value: impl fmt::Display) -> Self {
        let value = value.to_string();
        match self.labels.binary_search_by(|(k, _)| k.cmp(&name)) {
            Ok(i) => self.labels[i].1 = value,
            Err(i) => self.labels.insert(i, (name, value)),
        }
        self
    }

    /// Builds a key from a name and `(label, value)` pairs.
    pub fn with_labels(name: &'static str, labels: &[(&'static str, &str)]) -> Self {
        labels
            .iter()
            .fold(MetricKey::new(name), |k, (l, v)| k.label(l, v))
    }

    /// Value of one label, if present.
    pub fn get_label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for MetricKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)?;
        if !self.labels.is_empty() {
            f.write_str("{")?;
            for (i, (k, v)) in self.labels.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{k}={v:?}")?;
            }
            f.write_str("}")?;
        }
        Ok(())
    }
}
