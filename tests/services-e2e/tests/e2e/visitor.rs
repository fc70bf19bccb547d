//! A visitor of the web app without a browser: keeps the CSRF cookie and fills the token into
//! each form, as a browser with the page open would.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::Response;

pub struct Visitor {
    base: String,
    client: reqwest::Client,
    cookie: String,
    token: String,
}

impl Visitor {
    /// Opens the main page once to get the token.
    pub async fn arrive(base: &str) -> Self {
        let client = reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap();
        let response = client.get(base).send().await.unwrap();
        let cookie = response.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let token = cookie.trim_start_matches("csrf=").to_owned();
        let html = response.text().await.unwrap();
        assert!(
            html.contains(&format!(r#"name="csrf_token" value="{token}""#)),
            "the page's forms carry the cookie's token"
        );
        Self {
            base: base.to_owned(),
            client,
            cookie,
            token,
        }
    }

    /// A page's HTML, with status.
    pub async fn page(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// Submits a form with the visitor's token.
    pub async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.submit_with(path, fields, &[]).await
    }

    /// Submits a form with the visitor's token and these extra request headers.
    pub async fn submit_with(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Response {
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", &self.token)];
        form.extend_from_slice(fields);
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .form(&form);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }

    /// Submits a form that must succeed, and returns where it redirects to.
    pub async fn submit_ok(&self, path: &str, fields: &[(&str, &str)]) -> String {
        let response = self.submit(path, fields).await;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = response.text().await.unwrap();
        assert_eq!(status, 303, "{path} was refused: {body}");
        location.expect("a redirect has a location")
    }
}
