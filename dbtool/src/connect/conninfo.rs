//! Taking libpq's TLS settings (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`) out of a
//! connection string, URL or `key=value`, so that tokio-postgres parses the rest: it knows
//! only three of the six `sslmode` values and none of the files.

use super::tls::TlsSettings;

/// The keys taken out; everything else is left to tokio-postgres.
const TAKEN: [&str; 4] = ["sslmode", "sslrootcert", "sslcert", "sslkey"];

/// Splits `s` into what tokio-postgres parses and libpq's TLS settings. The last of a
/// repeated key wins, as in libpq.
pub fn split(s: &str) -> Result<(String, TlsSettings), String> {
    if s.starts_with("postgres://") || s.starts_with("postgresql://") {
        split_url(s)
    } else {
        split_key_value(s)
    }
}

fn take(settings: &mut TlsSettings, key: &str, value: String) {
    match key {
        "sslmode" => settings.sslmode = Some(value),
        "sslrootcert" => settings.sslrootcert = Some(value),
        "sslcert" => settings.sslcert = Some(value),
        _ => settings.sslkey = Some(value),
    }
}

/// `postgres://user:pass@host:port/db?key=value&…`. The query starts at the first `?` after
/// the credentials: tokio-postgres reads everything up to the first `@` as credentials.
fn split_url(s: &str) -> Result<(String, TlsSettings), String> {
    let mut settings = TlsSettings::default();
    let after_scheme = s.find("://").map_or(0, |i| i + 3);
    let after_credentials = after_scheme + s[after_scheme..].find('@').map_or(0, |at| at + 1);
    let Some(question) = s[after_credentials..].find('?') else {
        return Ok((s.to_owned(), settings));
    };
    let question = after_credentials + question;
    let mut kept = Vec::new();
    for pair in s[question + 1..].split('&') {
        let Some((key, value)) = pair.split_once('=') else {
            kept.push(pair);
            continue;
        };
        let key = percent_decode(key)?;
        if TAKEN.contains(&key.as_str()) {
            take(&mut settings, &key, percent_decode(value)?);
        } else {
            kept.push(pair);
        }
    }
    let mut rest = s[..question].to_owned();
    if !kept.is_empty() {
        rest.push('?');
        rest.push_str(&kept.join("&"));
    }
    Ok((rest, settings))
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} is not UTF-8 once percent-decoded"))
}

/// `host=h port=5432 sslrootcert='/path with spaces/ca.crt'`: libpq's rules (values quoted
/// with `'`, `\` escapes the next character). The rest is written back quoted.
fn split_key_value(s: &str) -> Result<(String, TlsSettings), String> {
    let mut settings = TlsSettings::default();
    let mut kept = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '=') {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if key.is_empty() || chars.next() != Some('=') {
            return Err(format!(
                "expected key=value pairs or a postgres:// URL, found {:?}",
                if key.is_empty() { "=" } else { &key }
            ));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    None => return Err(format!("the quoted value of {key} is not closed")),
                    Some('\'') => break,
                    Some('\\') => value.extend(chars.next()),
                    Some(c) => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
            if value.is_empty() {
                return Err(format!("{key} has no value"));
            }
        }
        if TAKEN.contains(&key.as_str()) {
            take(&mut settings, &key, value);
        } else {
            let quoted = value.replace('\\', "\\\\").replace('\'', "\\'");
            kept.push(format!("{key}='{quoted}'"));
        }
    }
    Ok((kept.join(" "), settings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(pairs: &[(&str, &str)]) -> TlsSettings {
        let mut s = TlsSettings::default();
        for (key, value) in pairs {
            take(&mut s, key, (*value).to_owned());
        }
        s
    }

    #[test]
    fn urls_lose_exactly_the_tls_settings() {
        let cases: &[(&str, &str, TlsSettings)] = &[
            (
                "postgres://u:p@h:5432/db",
                "postgres://u:p@h:5432/db",
                tls(&[]),
            ),
            (
                "postgres://u@h/db?sslmode=verify-full&sslrootcert=/etc/ca.crt",
                "postgres://u@h/db",
                tls(&[("sslmode", "verify-full"), ("sslrootcert", "/etc/ca.crt")]),
            ),
            (
                "postgresql://h/db?application_name=x&sslmode=require&connect_timeout=5",
                "postgresql://h/db?application_name=x&connect_timeout=5",
                tls(&[("sslmode", "require")]),
            ),
            (
                "postgres://u@h/db?sslcert=%2Ftmp%2Fmy%20cert.pem&sslkey=k.pem&sslmode=allow",
                "postgres://u@h/db",
                tls(&[
                    ("sslcert", "/tmp/my cert.pem"),
                    ("sslkey", "k.pem"),
                    ("sslmode", "allow"),
                ]),
            ),
            // A '?' in the password is not the query.
            (
                "postgres://u:a?b@h/db?sslmode=disable",
                "postgres://u:a?b@h/db",
                tls(&[("sslmode", "disable")]),
            ),
            // The last of a repeated key wins.
            (
                "postgres://h/db?sslmode=disable&sslmode=verify-ca",
                "postgres://h/db",
                tls(&[("sslmode", "verify-ca")]),
            ),
        ];
        for (input, rest, settings) in cases {
            let (got_rest, got) = split(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(&got_rest, rest, "{input}");
            assert_eq!(&got, settings, "{input}");
        }
    }

    #[test]
    fn key_value_strings_lose_exactly_the_tls_settings() {
        let cases: &[(&str, &str, TlsSettings)] = &[
            (
                "host=h port=5432 user=u",
                "host='h' port='5432' user='u'",
                tls(&[]),
            ),
            (
                "host=h sslmode=verify-full sslrootcert='/a b/ca.crt' dbname = db",
                "host='h' dbname='db'",
                tls(&[("sslmode", "verify-full"), ("sslrootcert", "/a b/ca.crt")]),
            ),
            (
                r"password='it\'s' sslkey=my\ key.pem sslcert=c.pem",
                r"password='it\'s'",
                tls(&[("sslkey", "my key.pem"), ("sslcert", "c.pem")]),
            ),
            ("", "", tls(&[])),
        ];
        for (input, rest, settings) in cases {
            let (got_rest, got) = split(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(&got_rest, rest, "{input}");
            assert_eq!(&got, settings, "{input}");
        }
    }

    #[test]
    fn rewritten_key_value_strings_parse_to_the_same_settings() {
        let input = r"host=h user=u password='a b\\c\'d' dbname=db application_name=x";
        let (rest, _) = split(input).unwrap();
        let original: tokio_postgres::Config = input.parse().unwrap();
        let rewritten: tokio_postgres::Config = rest.parse().unwrap();
        assert_eq!(format!("{original:?}"), format!("{rewritten:?}"));
        assert_eq!(rewritten.get_password(), Some(&b"a b\\c'd"[..]));
    }

    #[test]
    fn malformed_key_value_strings_are_refused() {
        for (input, message) in [
            ("localhost", "expected key=value pairs or a postgres:// URL"),
            ("host='h", "the quoted value of host is not closed"),
            ("host=", "host has no value"),
            ("=h", "expected key=value pairs"),
        ] {
            let err = split(input).unwrap_err();
            assert!(err.contains(message), "{input}: {err}");
        }
    }
}
