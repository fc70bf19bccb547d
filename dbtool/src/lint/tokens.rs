//! Just enough of PostgreSQL's lexer for the lint: words (keywords and identifiers, quoted
//! or not), literals, numbers, parameters and punctuation, with comments skipped and every
//! token's byte offset kept for `path:line:column`.

use crate::statements::{skip_block_comment, skip_dollar_quoted, skip_quoted};

/// What a token is; the rules only look closely at words and punctuation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A keyword or an unquoted identifier (`CREATE`, `info`).
    Word,
    /// A `"quoted identifier"`: never a keyword.
    Quoted,
    /// A string constant: `'…'`, `E'…'`, `$$…$$`, `$tag$…$tag$`, `B'…'`, `X'…'`, `U&'…'`.
    String,
    Number,
    /// `$1`.
    Parameter,
    /// One of `( ) [ ] , ; .`.
    Punct,
    /// Anything else: `=`, `::`, `->>`, `*`…
    Operator,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub kind: Kind,
    /// The token as written (quotes included).
    pub text: &'a str,
    /// Byte offset in the text that was lexed.
    pub offset: usize,
}

impl Token<'_> {
    /// True for the unquoted word `keyword`, in any case.
    pub fn is(&self, keyword: &str) -> bool {
        self.kind == Kind::Word && self.text.eq_ignore_ascii_case(keyword)
    }

    pub fn is_operator(&self, text: &str) -> bool {
        self.kind == Kind::Operator && self.text == text
    }

    pub fn is_punct(&self, c: char) -> bool {
        self.kind == Kind::Punct && self.text.len() == 1 && self.text.starts_with(c)
    }

    /// The identifier PostgreSQL sees: unquoted words fold to lower case, quoted ones keep
    /// their case with `""` unescaped. `None` for anything that is not a name.
    pub fn identifier(&self) -> Option<String> {
        match self.kind {
            Kind::Word => Some(self.text.to_ascii_lowercase()),
            Kind::Quoted => {
                let inner = self.text.strip_prefix('"')?;
                let inner = inner.strip_suffix('"').unwrap_or(inner);
                Some(inner.replace("\"\"", "\""))
            }
            _ => None,
        }
    }
}

/// The tokens of `sql`, with offsets counted from `base`.
pub fn tokenize(sql: &str, base: usize) -> Vec<Token<'_>> {
    let bytes = sql.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let kind = match b {
            _ if b.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = skip_block_comment(bytes, i);
                continue;
            }
            b'\'' => {
                i = skip_quoted(bytes, i, b'\'', false);
                Kind::String
            }
            b'"' => {
                i = skip_quoted(bytes, i, b'"', false);
                Kind::Quoted
            }
            b'$' => {
                if let Some(end) = skip_dollar_quoted(sql, i) {
                    i = end;
                    Kind::String
                } else if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                    Kind::Parameter
                } else {
                    i += 1;
                    Kind::Operator
                }
            }
            b'(' | b')' | b'[' | b']' | b',' | b';' => {
                i += 1;
                Kind::Punct
            }
            b'.' if !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                i += 1;
                Kind::Punct
            }
            _ if b.is_ascii_digit() || b == b'.' => {
                i += 1;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.') {
                    i += 1;
                }
                Kind::Number
            }
            _ if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 => {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || bytes[i] == b'_'
                        || bytes[i] == b'$'
                        || bytes[i] >= 0x80)
                {
                    i += 1;
                }
                let word = &sql[start..i];
                // String prefixes: E'…' (backslash escapes), B'…', X'…', N'…', U&'…'.
                if bytes.get(i) == Some(&b'\'')
                    && matches!(word, "E" | "e" | "B" | "b" | "X" | "x" | "N" | "n")
                {
                    i = skip_quoted(bytes, i, b'\'', word.eq_ignore_ascii_case("e"));
                    Kind::String
                } else if word.eq_ignore_ascii_case("u")
                    && bytes.get(i) == Some(&b'&')
                    && matches!(bytes.get(i + 1), Some(b'\'' | b'"'))
                {
                    let quote = bytes[i + 1];
                    i = skip_quoted(bytes, i + 1, quote, false);
                    if quote == b'"' {
                        Kind::Quoted
                    } else {
                        Kind::String
                    }
                } else {
                    Kind::Word
                }
            }
            _ => {
                i += 1;
                while i < bytes.len() && is_operator_byte(bytes[i]) {
                    // A comment starts a new token, even right after an operator.
                    if (bytes[i] == b'-' && bytes.get(i + 1) == Some(&b'-'))
                        || (bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*'))
                    {
                        break;
                    }
                    i += 1;
                }
                Kind::Operator
            }
        };
        tokens.push(Token {
            kind,
            text: &sql[start..i],
            offset: base + start,
        });
    }
    tokens
}

fn is_operator_byte(b: u8) -> bool {
    matches!(
        b,
        b'+' | b'-'
            | b'*'
            | b'/'
            | b'<'
            | b'>'
            | b'='
            | b'~'
            | b'!'
            | b'@'
            | b'#'
            | b'%'
            | b'^'
            | b'&'
            | b'|'
            | b'`'
            | b'?'
            | b':'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str) -> Vec<(Kind, &str)> {
        tokenize(sql, 0).iter().map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn lexes_words_literals_and_punctuation() {
        use Kind::*;
        let cases: &[(&str, &[(Kind, &str)])] = &[
            (
                "CREATE INDEX ON t (a);",
                &[
                    (Word, "CREATE"),
                    (Word, "INDEX"),
                    (Word, "ON"),
                    (Word, "t"),
                    (Punct, "("),
                    (Word, "a"),
                    (Punct, ")"),
                    (Punct, ";"),
                ],
            ),
            (
                "\"My Table\".x",
                &[(Quoted, "\"My Table\""), (Punct, "."), (Word, "x")],
            ),
            (
                "'it''s' E'\\'' $$a;b$$",
                &[(String, "'it''s'"), (String, "E'\\''"), (String, "$$a;b$$")],
            ),
            ("$f$ x $f$ $1", &[(String, "$f$ x $f$"), (Parameter, "$1")]),
            (
                "a::text -- c\n/* d */ 1.5",
                &[
                    (Word, "a"),
                    (Operator, "::"),
                    (Word, "text"),
                    (Number, "1.5"),
                ],
            ),
            ("x=-1", &[(Word, "x"), (Operator, "=-"), (Number, "1")]),
            ("U&\"a\" U&'b'", &[(Quoted, "U&\"a\""), (String, "U&'b'")]),
        ];
        for (sql, expected) in cases {
            assert_eq!(&kinds(sql), expected, "case {sql:?}");
        }
    }

    #[test]
    fn identifiers_fold_unless_quoted() {
        let tokens = tokenize("Info \"Info\" \"a\"\"b\" 'x'", 0);
        let names: Vec<_> = tokens.iter().map(Token::identifier).collect();
        assert_eq!(
            names,
            [
                Some("info".into()),
                Some("Info".into()),
                Some("a\"b".into()),
                None
            ]
        );
    }

    #[test]
    fn offsets_count_from_the_base() {
        let tokens = tokenize("  DROP x", 10);
        assert_eq!(tokens[0].offset, 12);
        assert_eq!(tokens[1].offset, 17);
    }

    #[test]
    fn unterminated_input_does_not_panic() {
        for sql in [
            "'open", "$$open", "/* open", "\"open", "$", "E'", "$a", "U&", "é",
        ] {
            let _ = tokenize(sql, 0);
        }
    }
}
