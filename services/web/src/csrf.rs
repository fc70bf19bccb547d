//! Protection of the forms against cross-site request forgery: a double-submit token.
//!
//! Every page sets a random token in a `SameSite=Strict`, `HttpOnly` cookie and repeats it
//! in a hidden field of each form; a POST is accepted only when the field equals the cookie.
//! Another site can make a browser send the cookie but can neither read it nor the page, so
//! it cannot fill the field. A POST whose `Origin` names another host is refused as well.
//!
//! Handlers take their form only through [`CsrfForm`], which does the check before it yields
//! the form: there is no way to read a posted form that skips it.

use axum::extract::{FromRequest, RawForm, Request};
use axum::http::header::{COOKIE, HOST, ORIGIN};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use serde::de::DeserializeOwned;

use crate::pages::Failure;

/// The cookie's name.
pub const COOKIE_NAME: &str = "csrf";
/// The form field's name.
pub const FIELD_NAME: &str = "csrf_token";

/// Why a form was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsrfError {
    #[error("the form has no security token")]
    MissingToken,
    #[error("the browser sent no security cookie")]
    MissingCookie,
    #[error("the form's security token does not match")]
    Mismatch,
    #[error("the form was sent from another site")]
    CrossOrigin,
}

/// The token of the request's cookie, if it has a well-formed one.
pub fn token_from_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_owned())
        .filter(|v| is_well_formed(v))
}

/// The token to put in the page's forms, and the `Set-Cookie` value when the request did
/// not carry one yet.
pub fn token_for_page(headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    match token_from_cookie(headers) {
        Some(token) => (token, None),
        None => {
            let token = uuid::Uuid::new_v4().simple().to_string();
            let cookie = format!("{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict");
            // A hex token always makes a valid header value.
            let value = HeaderValue::from_str(&cookie).ok();
            (token, value)
        }
    }
}

/// Checks a form submission: same-origin (when the browser says), cookie present, field
/// equal to the cookie.
pub fn verify(headers: &HeaderMap, field: Option<&str>) -> Result<(), CsrfError> {
    if let (Some(origin), Some(host)) = (headers.get(ORIGIN), headers.get(HOST)) {
        let origin_host = origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://"))
            .map(|(_, rest)| rest.trim_end_matches('/'));
        if origin_host != host.to_str().ok() {
            return Err(CsrfError::CrossOrigin);
        }
    }
    let field = field
        .filter(|f| !f.is_empty())
        .ok_or(CsrfError::MissingToken)?;
    let cookie = token_from_cookie(headers).ok_or(CsrfError::MissingCookie)?;
    if constant_time_eq(field.as_bytes(), cookie.as_bytes()) {
        Ok(())
    } else {
        Err(CsrfError::Mismatch)
    }
}

/// A posted form whose CSRF token was verified: read strictly (a field that is not UTF-8 is
/// refused, not mangled), checked, then decoded as `T`. Every field of `T` should be optional,
/// so a tampered form gets our message rather than a bare 422.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

impl<S, T> FromRequest<S> for CsrfForm<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Failure;

    async fn from_request(request: Request, state: &S) -> Result<Self, Failure> {
        let headers = request.headers().clone();
        let RawForm(body) = RawForm::from_request(request, state)
            .await
            .map_err(|rejection| unreadable(rejection.body_text()))?;
        strict_utf8(&body).map_err(unreadable)?;
        let fields: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&body).map_err(|err| unreadable(err.to_string()))?;
        let token = fields
            .into_iter()
            .find(|(name, _)| name == FIELD_NAME)
            .map(|(_, value)| value);
        verify(&headers, token.as_deref()).map_err(|err| {
            tracing::warn!(error = %err, "form refused by the CSRF check");
            Failure::new(
                StatusCode::FORBIDDEN,
                "Refused",
                format!("Refused: {err}. Reload the page and send the form again."),
            )
        })?;
        let form =
            serde_urlencoded::from_bytes(&body).map_err(|err| unreadable(err.to_string()))?;
        Ok(Self(form))
    }
}

fn unreadable(why: String) -> Failure {
    Failure::new(
        StatusCode::BAD_REQUEST,
        "Bad request",
        format!("The form could not be read: {why}"),
    )
}

/// Refuses a form whose names or values, once percent-decoded, are not UTF-8.
fn strict_utf8(body: &[u8]) -> Result<(), String> {
    for part in body.split(|&b| b == b'&' || b == b'=') {
        let spaced: Vec<u8> = part
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        let decoded: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
        if std::str::from_utf8(&decoded).is_err() {
            return Err("a field is not valid UTF-8".into());
        }
    }
    Ok(())
}

fn is_well_formed(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Compares without stopping at the first difference, so timing says nothing about how much
/// of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn a_new_visitor_gets_a_fresh_token_and_cookie() {
        let (token, cookie) = token_for_page(&HeaderMap::new());
        assert!(is_well_formed(&token));
        let cookie = cookie.unwrap();
        assert_eq!(
            cookie.to_str().unwrap(),
            format!("csrf={token}; Path=/; HttpOnly; SameSite=Strict")
        );
        let (other, _) = token_for_page(&HeaderMap::new());
        assert_ne!(token, other);
    }

    #[test]
    fn a_returning_visitor_keeps_the_token() {
        let request = headers(&[("cookie", &format!("a=b; csrf={TOKEN}; c=d"))]);
        assert_eq!(token_for_page(&request), (TOKEN.to_owned(), None));
    }

    #[test]
    fn submissions_are_checked_case_by_case() {
        let cookie = format!("csrf={TOKEN}");
        let cases: Vec<(HeaderMap, Option<&str>, Result<(), CsrfError>)> = vec![
            (headers(&[("cookie", &cookie)]), Some(TOKEN), Ok(())),
            (
                headers(&[
                    ("cookie", &cookie),
                    ("host", "web:8080"),
                    ("origin", "http://web:8080"),
                ]),
                Some(TOKEN),
                Ok(()),
            ),
            (
                headers(&[("cookie", &cookie)]),
                None,
                Err(CsrfError::MissingToken),
            ),
            (
                headers(&[("cookie", &cookie)]),
                Some(""),
                Err(CsrfError::MissingToken),
            ),
            (headers(&[]), Some(TOKEN), Err(CsrfError::MissingCookie)),
            (
                headers(&[("cookie", "csrf=not-a-token")]),
                Some("not-a-token"),
                Err(CsrfError::MissingCookie),
            ),
            (
                headers(&[("cookie", &cookie)]),
                Some("ffffffffffffffffffffffffffffffff"),
                Err(CsrfError::Mismatch),
            ),
            (
                headers(&[
                    ("cookie", &cookie),
                    ("host", "web:8080"),
                    ("origin", "http://evil.example"),
                ]),
                Some(TOKEN),
                Err(CsrfError::CrossOrigin),
            ),
        ];
        for (i, (request, field, want)) in cases.into_iter().enumerate() {
            assert_eq!(verify(&request, field), want, "case {i}");
        }
    }
}
