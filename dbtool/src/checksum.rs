//! refinery's checksum of a migration, computed without copying the file.
//!
//! refinery hashes the name, the version and the SQL with SipHash-1-3 through `Hash`
//! (`str` adds a 0xff terminator); the same calls in the same order give the same value,
//! which a test checks against refinery itself. Hashing in pieces lets dbtool also accept
//! a file whose only change since it was applied is its line endings or a byte order mark.

use std::hash::Hasher;

use siphasher::sip::SipHasher13;

/// refinery's checksum of `V{version}__{name}` with this SQL text.
pub fn refinery(version: i32, name: &str, sql: &str) -> u64 {
    hash(version, name, &[sql])
}

fn hash(version: i32, name: &str, pieces: &[&str]) -> u64 {
    let mut hasher = SipHasher13::new();
    hasher.write(name.as_bytes());
    hasher.write_u8(0xff);
    hasher.write_i32(version);
    for piece in pieces {
        hasher.write(piece.as_bytes());
    }
    hasher.write_u8(0xff);
    hasher.finish()
}

/// Checksums of the same text with LF line endings, with CRLF line endings, each with and
/// without a leading byte order mark: a recorded checksum equal to any of these means the
/// file changed in nothing PostgreSQL sees. One pass, no copy of the text.
pub fn equivalents(version: i32, name: &str, raw: &str) -> Vec<u64> {
    let body = raw.strip_prefix('\u{feff}').unwrap_or(raw);
    let start = |bom: &str| {
        let mut hasher = SipHasher13::new();
        hasher.write(name.as_bytes());
        hasher.write_u8(0xff);
        hasher.write_i32(version);
        hasher.write(bom.as_bytes());
        hasher
    };
    // [LF, CRLF] without a byte order mark, then the same with one.
    let mut hashers = [start(""), start(""), start("\u{feff}"), start("\u{feff}")];
    for (i, line) in body.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        for (h, hasher) in hashers.iter_mut().enumerate() {
            if i > 0 {
                hasher.write(if h % 2 == 0 { b"\n" } else { b"\r\n" });
            }
            hasher.write(line.as_bytes());
        }
    }
    let mut out: Vec<u64> = hashers
        .into_iter()
        .map(|mut hasher| {
            hasher.write_u8(0xff);
            hasher.finish()
        })
        .collect();
    // The text as it is, with and without its byte order mark.
    out.push(hash(version, name, &[body]));
    out.push(hash(version, name, &["\u{feff}", body]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(version: i32, name: &str, sql: &str) -> u64 {
        refinery::Migration::unapplied(&format!("V{version}__{name}"), sql)
            .expect("refinery name")
            .checksum()
    }

    #[test]
    fn equals_refinerys_own_checksum() {
        for (version, name, sql) in [
            (1, "create_info", "CREATE TABLE info (name text);\n"),
            (0, "x", ""),
            (2147483647, "naïve", "SELECT 'é';\r\n"),
            (42, "bom", "\u{feff}SELECT 1;"),
        ] {
            assert_eq!(
                refinery(version, name, sql),
                reference(version, name, sql),
                "V{version}__{name}"
            );
        }
    }

    #[test]
    fn line_endings_and_byte_order_marks_are_equivalent() {
        let lf = "SELECT 1;\nSELECT 2;\n";
        let crlf = "SELECT 1;\r\nSELECT 2;\r\n";
        let bom = "\u{feff}SELECT 1;\r\nSELECT 2;\r\n";
        for recorded in [lf, crlf, bom] {
            let recorded = refinery(3, "x", recorded);
            for now in [lf, crlf, bom] {
                assert!(
                    equivalents(3, "x", now).contains(&recorded),
                    "{now:?} should match"
                );
            }
        }
        assert!(!equivalents(3, "x", "SELECT 1;\nSELECT 3;\n").contains(&refinery(3, "x", lf)));
        assert!(!equivalents(3, "y", lf).contains(&refinery(3, "x", lf)));
    }
}
