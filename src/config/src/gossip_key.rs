//! The gossip encryption key (`encrypt`): decoded exactly as Go's `base64.StdEncoding` does, so
//! a bad key is reported with the byte offset Consul reports ("illegal base64 data at input
//! byte 4"), and sized as memberlist requires (AES-128, -192 or -256).

/// Decodes a base64 gossip key and checks its size. The error is the text Consul prints.
///
/// Consul checks the base64 while loading the configuration (`encrypt has invalid key: ...`)
/// and the size only when it builds the keyring at start-up; ballast checks both up front, in
/// the words of whichever path Consul would take for the same settings.
pub fn decode_gossip_key(key: &str, disable_keyring_file: bool) -> Result<Vec<u8>, String> {
    let bytes = go_std_base64(key.as_bytes())
        .map_err(|offset| format!("encrypt has invalid key: illegal base64 data at input byte {offset}"))?;
    if !matches!(bytes.len(), 16 | 24 | 32) {
        // memberlist.ValidateKey's text, wrapped by Consul's initKeyring ("Invalid key: ") when
        // the keyring file is written, and by newConsulConfig in both cases.
        let size = "key size must be 16, 24 or 32 bytes";
        return Err(if disable_keyring_file {
            format!("Failed to configure keyring: {size}")
        } else {
            format!("Failed to configure keyring: Invalid key: {size}")
        });
    }
    Ok(bytes)
}

fn sextet(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

fn is_newline(c: u8) -> bool {
    c == b'\n' || c == b'\r'
}

/// Go's padded, non-strict standard decoding: newlines are skipped anywhere, padding must be
/// complete, nothing may follow it. The error is the offset Go's CorruptInputError carries.
fn go_std_base64(src: &[u8]) -> Result<Vec<u8>, usize> {
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0;
    while si < src.len() {
        let (next, done) = quantum(src, si, &mut out)?;
        si = next;
        if done {
            break;
        }
    }
    Ok(out)
}

/// One 4-character group starting at `si` (Go's decodeQuantum). Returns where the next group
/// starts and whether padding ended the input.
fn quantum(src: &[u8], mut si: usize, out: &mut Vec<u8>) -> Result<(usize, bool), usize> {
    let mut buf = [0u8; 4];
    let mut len = 4;
    let mut j = 0;
    let mut padded = false;
    while j < 4 {
        if si == src.len() {
            if j == 0 {
                return Ok((si, true));
            }
            // Padding is mandatory: a short final group is corrupt from its first character.
            return Err(si - j);
        }
        let c = src[si];
        si += 1;
        if let Some(v) = sextet(c) {
            buf[j] = v;
            j += 1;
            continue;
        }
        if is_newline(c) {
            continue;
        }
        if c != b'=' || j < 2 {
            return Err(si - 1);
        }
        if j == 2 {
            // "==" expected; the first '=' is consumed.
            while si < src.len() && is_newline(src[si]) {
                si += 1;
            }
            if si == src.len() {
                return Err(src.len());
            }
            if src[si] != b'=' {
                return Err(si - 1);
            }
            si += 1;
        }
        while si < src.len() && is_newline(src[si]) {
            si += 1;
        }
        if si < src.len() {
            return Err(si);
        }
        len = j;
        padded = true;
        break;
    }
    let val = (u32::from(buf[0]) << 18) | (u32::from(buf[1]) << 12) | (u32::from(buf[2]) << 6) | u32::from(buf[3]);
    let bytes = [(val >> 16) as u8, (val >> 8) as u8, val as u8];
    out.extend_from_slice(&bytes[..len - 1]);
    Ok((si, padded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_like_go() {
        assert_eq!(go_std_base64(b""), Ok(vec![]));
        assert_eq!(go_std_base64(b"Zg=="), Ok(b"f".to_vec()));
        assert_eq!(go_std_base64(b"Zm8="), Ok(b"fo".to_vec()));
        assert_eq!(go_std_base64(b"Zm9v"), Ok(b"foo".to_vec()));
        assert_eq!(go_std_base64(b"Zm9v\nYmFy\r\n"), Ok(b"foobar".to_vec()));
        assert_eq!(go_std_base64(b"Zm\n8="), Ok(b"fo".to_vec()));
    }

    #[test]
    fn reports_go_offsets() {
        // Consul's own test case.
        assert_eq!(go_std_base64(b"this is not a valid key"), Err(4));
        assert_eq!(go_std_base64(b"Zm9"), Err(0));
        assert_eq!(go_std_base64(b"Zm9vY"), Err(4));
        assert_eq!(go_std_base64(b"Zg="), Err(3));
        assert_eq!(go_std_base64(b"Zg=x"), Err(2));
        assert_eq!(go_std_base64(b"Z==="), Err(1));
        assert_eq!(go_std_base64(b"Zm8=Zm8="), Err(4));
        assert_eq!(go_std_base64(b"=AAA"), Err(0));
        assert_eq!(go_std_base64(b"Zm-v"), Err(2));
    }

    #[test]
    fn key_sizes_and_messages() {
        assert_eq!(decode_gossip_key("i0P+gFTkLPg0h53eNYjydg==", false).unwrap().len(), 16);
        assert_eq!(decode_gossip_key(&"A".repeat(32), false).unwrap().len(), 24);
        assert_eq!(decode_gossip_key("pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=", false).unwrap().len(), 32);
        assert_eq!(
            decode_gossip_key("this is not a valid key", false).unwrap_err(),
            "encrypt has invalid key: illegal base64 data at input byte 4"
        );
        assert_eq!(
            decode_gossip_key("Zm9v", false).unwrap_err(),
            "Failed to configure keyring: Invalid key: key size must be 16, 24 or 32 bytes"
        );
        assert_eq!(
            decode_gossip_key("Zm9v", true).unwrap_err(),
            "Failed to configure keyring: key size must be 16, 24 or 32 bytes"
        );
    }
}
