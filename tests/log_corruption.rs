//! Done-when: a corrupted segment (a flipped byte before the tail) stops the agent with a
//! message that names the file and offset; a torn tail is truncated and the agent starts.
mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Frame layout of the log (see src/storage): 16-byte header [len u32][crc32c u32][index u64],
/// then the payload padded to 16 bytes; a zero length ends the data.
fn frames(seg: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut off = 0;
    while off + 16 <= seg.len() {
        let len = u32::from_le_bytes(seg[off..off + 4].try_into().unwrap()) as usize;
        if len == 0 || off + 16 + len > seg.len() {
            break;
        }
        out.push((off, len));
        off += 16 + len.div_ceil(16) * 16;
    }
    out
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "seg") {
                found.push(p);
            }
        }
    }
    found.sort();
    found
}

fn write_keys(data: &Path, n: usize) {
    let port = free_port();
    let mut a = start_server(data, port, &[]);
    a.wait_ready(Duration::from_secs(30));
    for i in 0..n {
        let r = http(a.http, "PUT", &format!("/v1/kv/c/k{i:03}"), format!("value-{i}").as_bytes()).unwrap();
        assert_eq!(r.body, b"true");
    }
    assert_eq!(a.terminate(), Some(0), "clean shutdown exit code; stderr: {}", a.stderr());
}

#[test]
fn flipped_byte_before_the_tail_refuses_to_start() {
    let dir = TempDir::new("corrupt");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    write_keys(&data, 50);

    let seg = segments(&data).pop().expect("a log segment");
    let mut bytes = std::fs::read(&seg).unwrap();
    let fr = frames(&bytes);
    assert!(fr.len() > 10, "expected many frames, saw {}", fr.len());
    // flip one payload byte of a frame in the middle: valid frames follow it
    let (off, len) = fr[fr.len() / 2];
    let target = off + 16 + len / 2;
    bytes[target] ^= 0x5a;
    std::fs::write(&seg, &bytes).unwrap();

    let mut a = start_server(&data, free_port(), &[]);
    let code = a.wait_exit(Duration::from_secs(30)).expect("agent must refuse to start");
    let err = a.stderr();
    assert_ne!(code, 0, "non-zero exit expected; stderr: {err}");
    let name = seg.file_name().unwrap().to_string_lossy().to_string();
    assert!(err.contains(&name), "message names the file {name}: {err}");
    assert!(err.contains(&format!("offset {off}")), "message names the offset {off}: {err}");
}

#[test]
fn torn_tail_is_truncated_and_the_agent_starts() {
    let dir = TempDir::new("torn");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    write_keys(&data, 20);

    let seg = segments(&data).pop().expect("a log segment");
    let mut bytes = std::fs::read(&seg).unwrap();
    let fr = frames(&bytes);
    // tear the last frame: keep its header, garble the second half of its payload
    let (off, len) = *fr.last().unwrap();
    for b in &mut bytes[off + 16 + len / 2..off + 16 + len] {
        *b = 0xee;
    }
    std::fs::write(&seg, &bytes).unwrap();

    let mut a = start_server(&data, free_port(), &[]);
    a.wait_ready(Duration::from_secs(30));
    // everything written before the torn record is still there
    for i in 0..19 {
        let r = http(a.http, "GET", &format!("/v1/kv/c/k{i:03}?raw"), b"").unwrap();
        assert_eq!(r.status, 200, "key {i} after torn-tail recovery");
        assert_eq!(r.text(), format!("value-{i}"));
    }
    // and the agent keeps accepting writes after truncating
    let r = http(a.http, "PUT", "/v1/kv/c/after", b"x").unwrap();
    assert_eq!(r.body, b"true");
}
