//! Finding Helm for the tests that need it: `$KGATE_HELM`, the project's copy
//! (`ci/install-helm.sh` puts it in `target/tools/helm`), or `helm` on PATH. Without one the
//! Helm tests skip, except under `CI=true`, where a missing Helm fails them.

use std::path::PathBuf;

/// Where `ci/install-helm.sh` puts the project's copy of Helm.
pub fn project_copy() -> PathBuf {
    super::repo().join("target/tools/helm/helm")
}

pub fn helm() -> Option<PathBuf> {
    let local = project_copy();
    let found = std::env::var_os("KGATE_HELM")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .or_else(|| local.is_file().then_some(local))
        .or_else(|| {
            std::env::split_paths(&std::env::var_os("PATH")?)
                .map(|d| d.join("helm"))
                .find(|p| p.is_file())
        });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but no helm: run ci/install-helm.sh (or set KGATE_HELM)"
        );
        eprintln!("skipped: no helm (run ci/install-helm.sh)");
    }
    found
}
