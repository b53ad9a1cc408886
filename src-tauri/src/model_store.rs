//! The Models screen's side of the shell: the catalogue's models and their state in the
//! caches the Python tools share (`virnucpro_models`), downloads and verifications one at a
//! time per model with cancellation, imports of copied-in files, and the installed model a
//! run is given by default for each role. Knows nothing of Tauri: the commands wrap it.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use virnucpro_core::CancelToken;
use virnucpro_models::catalogue::CatalogueError;
use virnucpro_models::download::RetryPolicy;
use virnucpro_models::import::{ImportError, ImportMode, ImportReport};
use virnucpro_models::status::usable_for;
use virnucpro_models::{
    CacheRoots, Catalogue, Endpoints, FetchError, FetchEvent, FetchOptions, ModelRole, ModelStatus,
};

use crate::api::{InstalledModels, ModelJob, ModelJobKind, ModelList};
use crate::error::{CommandError, CommandResult, ErrorKind};

/// Progress events a second at most per job, as for a run (`throttle::INTERVAL`).
pub const PROGRESS_INTERVAL: Duration = crate::throttle::INTERVAL;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The models of the catalogue in the caches of `roots`, and the jobs going on them.
pub struct ModelStore {
    pub catalogue: Catalogue,
    pub roots: CacheRoots,
    endpoints: Endpoints,
    retry: RetryPolicy,
    /// Per model id: what is going on it and how to stop it.
    jobs: Arc<Mutex<HashMap<String, (ModelJobKind, CancelToken)>>>,
}

/// Marks a model as busy until dropped (also when the job's thread panics).
pub struct JobSlot {
    jobs: Arc<Mutex<HashMap<String, (ModelJobKind, CancelToken)>>>,
    id: String,
    pub cancel: CancelToken,
}

impl Drop for JobSlot {
    fn drop(&mut self) {
        lock(&self.jobs).remove(&self.id);
    }
}

impl ModelStore {
    pub fn new(catalogue: Catalogue, roots: CacheRoots, endpoints: Endpoints) -> Self {
        Self {
            catalogue,
            roots,
            endpoints,
            retry: RetryPolicy::default(),
            jobs: Arc::default(),
        }
    }

    /// As the Python tools and the CLI find them: `VIRNUCPRO_CATALOGUE` (else the built-in
    /// catalogue), the caches from `HF_HUB_CACHE`, `XDG_CACHE_HOME`, `TORCH_HOME`, ...,
    /// and `HF_ENDPOINT`.
    pub fn from_env() -> CommandResult<Self> {
        let catalogue = Catalogue::from_env().map_err(catalogue_error)?;
        let roots = CacheRoots::from_env().ok_or_else(|| {
            CommandError::not_found(
                "no home folder and no HF_HOME/XDG_CACHE_HOME: nowhere to keep the models",
            )
        })?;
        Ok(Self::new(catalogue, roots, Endpoints::from_env()))
    }

    /// Retries for downloads (tests make them quick).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Every model's state, where the caches are, and what is going on.
    pub fn list(&self) -> ModelList {
        let jobs = lock(&self.jobs);
        let mut busy: Vec<ModelJob> = jobs
            .iter()
            .map(|(id, (kind, _))| ModelJob {
                id: id.clone(),
                kind: *kind,
            })
            .collect();
        drop(jobs);
        busy.sort_by(|a, b| a.id.cmp(&b.id));
        ModelList {
            models: virnucpro_models::status(&self.catalogue, &self.roots),
            caches: self.roots.clone(),
            busy,
        }
    }

    /// One model's state now.
    pub fn model(&self, id: &str) -> CommandResult<ModelStatus> {
        self.list()
            .models
            .into_iter()
            .find(|m| m.id == id)
            .ok_or_else(|| unknown_model(&self.catalogue, id))
    }

    /// The installed model a run is given for each field; the classifier for `length`.
    pub fn installed_defaults(&self, length: usize) -> InstalledModels {
        let usable = |role: Option<ModelRole>| {
            role.and_then(|role| usable_for(&self.catalogue, &self.roots, role))
                .map(|status| status.path)
        };
        InstalledModels {
            dnabert: usable(Some(ModelRole::Dnabert)),
            esm: usable(Some(ModelRole::Esm)),
            classifier: usable(ModelRole::classifier_for(length)),
        }
    }

    /// Take `id` for a job; `busy` while a download or verification of it is going.
    pub fn begin(&self, id: &str, kind: ModelJobKind) -> CommandResult<JobSlot> {
        if self.catalogue.entry(id).is_none() {
            return Err(unknown_model(&self.catalogue, id));
        }
        let mut jobs = lock(&self.jobs);
        if let Some((going, _)) = jobs.get(id) {
            let what = match going {
                ModelJobKind::Fetch => "being downloaded",
                ModelJobKind::Verify => "being verified",
            };
            return Err(CommandError::new(
                ErrorKind::Busy,
                format!("{id} is {what}; wait for it to end or cancel it first"),
            ));
        }
        let cancel = CancelToken::new();
        jobs.insert(id.to_string(), (kind, cancel.clone()));
        Ok(JobSlot {
            jobs: self.jobs.clone(),
            id: id.to_string(),
            cancel,
        })
    }

    /// Ask the job on `id` to stop; `false` when none is going. What was downloaded is kept.
    pub fn cancel(&self, id: &str) -> bool {
        match lock(&self.jobs).get(id) {
            Some((_, token)) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Download `id` (what is missing of it) on this thread, events thinned to `sink`.
    /// Resolves with the model's state also when cancelled (then partial: a later fetch
    /// resumes it); an error names the file and what went wrong.
    pub fn fetch(
        &self,
        slot: &JobSlot,
        sink: impl FnMut(FetchEvent),
    ) -> CommandResult<ModelStatus> {
        let options = FetchOptions {
            roots: self.roots.clone(),
            endpoints: self.endpoints.clone(),
            retry: self.retry.clone(),
        };
        let mut thin = Thinner::new(sink, PROGRESS_INTERVAL);
        let result = virnucpro_models::fetch(
            &self.catalogue,
            &slot.id,
            &options,
            &slot.cancel,
            &mut |event| thin.push(event.clone(), Instant::now()),
        );
        thin.flush();
        self.outcome(&slot.id, result)
    }

    /// Hash every installed file of `id` again, on this thread.
    pub fn verify(
        &self,
        slot: &JobSlot,
        sink: impl FnMut(FetchEvent),
    ) -> CommandResult<ModelStatus> {
        let mut thin = Thinner::new(sink, PROGRESS_INTERVAL);
        let result = virnucpro_models::verify(
            &self.catalogue,
            &slot.id,
            &self.roots,
            &slot.cancel,
            &mut |event| thin.push(event.clone(), Instant::now()),
        );
        thin.flush();
        self.outcome(&slot.id, result)
    }

    fn outcome(
        &self,
        id: &str,
        result: Result<ModelStatus, FetchError>,
    ) -> CommandResult<ModelStatus> {
        match result {
            Ok(status) => Ok(status),
            Err(FetchError::Cancelled) => {
                tracing::info!("{id}: cancelled; what was downloaded is kept");
                self.model(id)
            }
            Err(err) => {
                tracing::warn!("{id}: {err}");
                Err(fetch_error(err))
            }
        }
    }

    /// Match the files in `path` (a file or a folder) against the catalogue and copy the
    /// matching ones into the caches.
    pub fn import(&self, path: &Path) -> CommandResult<ImportReport> {
        virnucpro_models::import(
            &self.catalogue,
            &self.roots,
            path,
            ImportMode::Copy,
            &CancelToken::new(),
        )
        .map_err(|err| match err {
            ImportError::Missing { .. } => CommandError::not_found(err.to_string()),
            ImportError::Install(err) => fetch_error(err),
            ImportError::Cancelled => CommandError::new(ErrorKind::Io, err.to_string()),
        })
    }

    /// The folder to show for `id`: its snapshot folder, or the folder holding its file;
    /// `not_found` while nothing of it is on disk.
    pub fn reveal_target(&self, id: &str) -> CommandResult<PathBuf> {
        let status = self.model(id)?;
        let path = &status.path;
        if path.is_dir() {
            return Ok(path.clone());
        }
        let folder = if path.is_file() {
            path.parent()
        } else {
            // Partly downloaded: the folder its files go to, if it is there yet.
            status
                .files
                .iter()
                .filter_map(|f| f.path.parent())
                .find(|p| p.is_dir())
        };
        folder.map(Path::to_path_buf).ok_or_else(|| {
            CommandError::not_found(format!(
                "{} is not installed: nothing of it is in {}",
                status.title,
                path.display()
            ))
        })
    }

    /// The installed models' paths: a run may read them (the scope allows them).
    pub fn usable_paths(&self) -> Vec<PathBuf> {
        self.list()
            .models
            .into_iter()
            .filter(|m| m.state.is_usable())
            .map(|m| m.path)
            .collect()
    }
}

/// The store the commands share, or why there is none (an unreadable catalogue file, no
/// home folder): every model command then fails with that message.
pub struct Models(CommandResult<Arc<ModelStore>>);

impl Models {
    pub fn new(store: CommandResult<ModelStore>) -> Self {
        if let Err(e) = &store {
            tracing::warn!("models unavailable: {}", e.message);
        }
        Self(store.map(Arc::new))
    }

    pub fn from_env() -> Self {
        Self::new(ModelStore::from_env())
    }

    pub fn get(&self) -> CommandResult<Arc<ModelStore>> {
        self.0.clone()
    }
}

fn catalogue_error(err: CatalogueError) -> CommandError {
    CommandError::invalid(format!("the model catalogue is unusable: {err}"))
}

fn unknown_model(catalogue: &Catalogue, id: &str) -> CommandError {
    CommandError::not_found(format!(
        "no model \"{id}\" in the catalogue; it has {}",
        catalogue.ids().join(", ")
    ))
}

fn fetch_error(err: FetchError) -> CommandError {
    let kind = match &err {
        FetchError::UnknownModel { .. } => ErrorKind::NotFound,
        FetchError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            ErrorKind::NotFound
        }
        _ => ErrorKind::Io,
    };
    CommandError::new(kind, err.to_string())
}

/// A job's events for the web view: every event at once, except `progress`, which goes
/// out at most once per interval (the latest wins, and goes out before the next other
/// event, so a bar never moves after its file's end).
pub struct Thinner<S: FnMut(FetchEvent)> {
    sink: S,
    interval: Duration,
    last_sent: Option<Instant>,
    held: Option<FetchEvent>,
}

impl<S: FnMut(FetchEvent)> Thinner<S> {
    pub fn new(sink: S, interval: Duration) -> Self {
        Self {
            sink,
            interval,
            last_sent: None,
            held: None,
        }
    }

    pub fn push(&mut self, event: FetchEvent, now: Instant) {
        if !matches!(event, FetchEvent::Progress { .. }) {
            self.flush();
            (self.sink)(event);
            return;
        }
        let due = self
            .last_sent
            .is_none_or(|t| now.saturating_duration_since(t) >= self.interval);
        if due {
            self.held = None;
            self.last_sent = Some(now);
            (self.sink)(event);
        } else {
            self.held = Some(event);
        }
    }

    /// Send the held progress, if any.
    pub fn flush(&mut self) {
        if let Some(event) = self.held.take() {
            (self.sink)(event);
        }
    }
}

#[cfg(test)]
mod tests;
