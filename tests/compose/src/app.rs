//! compose/app, the whole cluster, brought up the way every test of it needs: under its own
//! project name, with one platform's images, web published on a free host port, and every
//! service healthy.

use std::time::Duration;

use crate::images::require;
use crate::platforms::image_env;
use crate::project::Compose;
use crate::{free_port, Project};

/// compose/app, up and healthy. Dropping it tears the project down.
pub struct App {
    pub project: Project,
    /// The host port web is published on.
    pub port: u16,
}

impl App {
    /// Brings compose/app up with `platform`'s images (see [`image_env`]) and waits until
    /// every service is healthy and both migrations exited 0, within `within`.
    pub fn up(platform: &str, within: Duration) -> Self {
        Self::up_with(platform, Compose::default_for_machine(), within)
    }

    /// [`App::up`] with `compose` (v2 or 1.29); with v2 through `up --wait`.
    pub fn up_with(platform: &str, compose: Compose, within: Duration) -> Self {
        Self::up_with_env(platform, compose, &[], within)
    }

    /// [`App::up_with`] with more variables for Compose (`COMPOSE_PROFILES`, a port).
    pub fn up_with_env(
        platform: &str,
        compose: Compose,
        env: &[(&str, String)],
        within: Duration,
    ) -> Self {
        let images = image_env(platform);
        require(
            &images
                .iter()
                .map(|(_, image)| image.as_str())
                .collect::<Vec<_>>(),
        );
        let port = free_port();
        let mut project = Project::new("app")
            .with_compose(compose)
            .with_env("WEB_PORT", port.to_string());
        for (variable, image) in images {
            project = project.with_env(&variable, image);
        }
        for (variable, value) in env {
            project = project.with_env(variable, value.clone());
        }
        project.make_env();
        project.up_wait(&[], within);
        // Also with v2's --wait: both migration containers exited 0, nothing is unhealthy.
        project.wait_healthy(&[], within);
        Self { project, port }
    }

    /// web's address from the host: `http://127.0.0.1:PORT`.
    pub fn web(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}
