//! Output limits (`OutputMaxSize`) and Consul's texts when output is cut.
//!
//! Script and HTTP checks stream their output through a circular buffer
//! (github.com/armon/circbuf) of `OutputMaxSize` bytes, so they keep the
//! LAST bytes; TTL updates keep the FIRST bytes.

/// A fixed-capacity buffer keeping the last `capacity` bytes written, and
/// counting everything written (circbuf.Buffer).
#[derive(Debug, Clone)]
pub struct TailBuffer {
    buf: Vec<u8>,
    capacity: usize,
    /// Next write position once the buffer has wrapped.
    head: usize,
    total: u64,
}

impl TailBuffer {
    /// A zero capacity would make circbuf fail; Consul never builds one
    /// (the limit is at least 1), and here it keeps nothing.
    pub fn new(capacity: usize) -> Self {
        TailBuffer {
            buf: Vec::with_capacity(capacity.min(64 * 1024)),
            capacity,
            head: 0,
            total: 0,
        }
    }

    pub fn write(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        if self.capacity == 0 {
            return;
        }
        if data.len() >= self.capacity {
            data = &data[data.len() - self.capacity..];
            self.buf.clear();
            self.buf.extend_from_slice(data);
            self.head = 0;
            return;
        }
        let room = self.capacity - self.buf.len();
        if room > 0 {
            let n = room.min(data.len());
            self.buf.extend_from_slice(&data[..n]);
            data = &data[n..];
        }
        for &b in data {
            self.buf[self.head] = b;
            self.head = (self.head + 1) % self.capacity;
        }
    }

    /// The kept bytes, oldest first.
    pub fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.buf.len());
        out.extend_from_slice(&self.buf[self.head..]);
        out.extend_from_slice(&self.buf[..self.head]);
        out
    }

    /// The kept bytes as text (invalid UTF-8 replaced, as JSON encoding
    /// of a Go string would do).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn total_written(&self) -> u64 {
        self.total
    }

    /// CheckMonitor's text: the kept bytes, preceded by
    /// `Captured <size> of <total> bytes\n...\n` when some were dropped.
    pub fn captured_text(&self) -> String {
        let kept = self.text();
        if self.total > self.capacity as u64 {
            format!(
                "Captured {} of {} bytes\n...\n{}",
                self.capacity, self.total, kept
            )
        } else {
            kept
        }
    }
}

/// CheckTTL.SetStatus: output longer than `max` bytes keeps its first `max`
/// bytes, followed by ` ... (captured <max> of <total> bytes)`.
/// The cut moves back to a character boundary (Go slices bytes; a Rust
/// string cannot hold half a character). A `max` of 0 means
/// [`crate::DEFAULT_BUF_SIZE`], as CheckTTL.Start does.
pub fn truncate_ttl_output(output: &str, max: usize) -> String {
    let max = if max == 0 {
        crate::DEFAULT_BUF_SIZE
    } else {
        max
    };
    let total = output.len();
    if total <= max {
        return output.to_string();
    }
    let mut cut = max;
    while !output.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{} ... (captured {} of {} bytes)",
        &output[..cut],
        max,
        total
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_buffer_keeps_the_last_bytes_across_writes() {
        let mut b = TailBuffer::new(4);
        b.write(b"ab");
        assert_eq!(b.bytes(), b"ab");
        b.write(b"cde");
        assert_eq!(b.bytes(), b"bcde");
        b.write(b"f");
        assert_eq!(b.bytes(), b"cdef");
        b.write(b"0123456789");
        assert_eq!(b.bytes(), b"6789");
        b.write(b"xy");
        assert_eq!(b.bytes(), b"89xy");
        assert_eq!(b.total_written(), 18);
    }

    #[test]
    fn captured_text_names_sizes_only_when_cut() {
        let mut b = TailBuffer::new(5);
        b.write(b"hello");
        assert_eq!(b.captured_text(), "hello");
        b.write(b" world");
        assert_eq!(b.captured_text(), "Captured 5 of 11 bytes\n...\nworld");
    }

    #[test]
    fn zero_capacity_keeps_nothing_but_counts() {
        let mut b = TailBuffer::new(0);
        b.write(b"abc");
        assert!(b.bytes().is_empty());
        assert_eq!(b.total_written(), 3);
    }

    #[test]
    fn ttl_truncation_matches_consul_text() {
        assert_eq!(truncate_ttl_output("short", 10), "short");
        assert_eq!(truncate_ttl_output("0123456789", 10), "0123456789");
        assert_eq!(
            truncate_ttl_output("0123456789abc", 10),
            "0123456789 ... (captured 10 of 13 bytes)"
        );
        // "é" is two bytes: a cut inside it moves back before it.
        assert_eq!(
            truncate_ttl_output("aé", 2),
            "a ... (captured 2 of 3 bytes)"
        );
        assert_eq!(
            truncate_ttl_output(&"x".repeat(5000), 0).len(),
            4096 + " ... (captured 4096 of 5000 bytes)".len()
        );
    }
}
