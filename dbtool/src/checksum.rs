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
/// file changed in nothing PostgreSQL sees.
pub fn equivalents(version: i32, name: &str, raw: &str) -> Vec<u64> {
    let body = raw.strip_prefix('\u{feff}').unwrap_or(raw);
    let lines: Vec<&str> = body
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .collect();
    let mut out = Vec::with_capacity(6);
    for bom in ["", "\u{feff}"] {
        for ending in ["\n", "\r\n"] {
            let mut pieces = Vec::with_capacity(lines.len() * 2 + 1);
            pieces.push(bom);
            for (i, line) in lines.iter().enumerate() {
                if i > 0 {
                    pieces.push(ending);
                }
                pieces.push(line);
            }
            out.push(hash(version, name, &pieces));
        }
        out.push(refinery(version, name, &format!("{bom}{body}")));
    }
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
