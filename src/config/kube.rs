//! `kubeVersion:` and `kubeVersions:` — the Kubernetes version(s) manifests are checked against.

use indexmap::IndexMap;

use super::decoder::Decoder;
use super::{ConfigError, Spanned};
use crate::yaml::{Node, Value};

/// One `MAJOR.MINOR` version that kgate has schemas for.
pub(super) fn version(d: &Decoder, node: &Node) -> Result<Spanned<String>, ConfigError> {
    // YAML reads an unquoted 1.30 as the number 1.3, so the version a user wrote is gone.
    if matches!(node.value, Value::Float(_) | Value::Int(_)) {
        return Err(d.err(
            node.start,
            "kubeVersion must be a quoted string".to_owned(),
            Some(
                "write it in quotes, e.g. `kubeVersion: \"1.30\"`: unquoted, 1.30 is the number 1.3"
                    .to_owned(),
            ),
        ));
    }
    let v = d.string(node, "kubeVersion")?;
    let ok = v.value.split_once('.').is_some_and(|(a, b)| {
        !a.is_empty()
            && !b.is_empty()
            && a.bytes().all(|c| c.is_ascii_digit())
            && b.bytes().all(|c| c.is_ascii_digit())
    });
    if !ok {
        return Err(d.err(
            node.start,
            format!("kubeVersion `{}` is not of the form MAJOR.MINOR", v.value),
            Some("for example `kubeVersion: \"1.32\"`".to_owned()),
        ));
    }
    if let Err(e) = crate::model::kube_version::KubeVersion::parse(&v.value) {
        return Err(d.err(node.start, e.to_string(), None));
    }
    Ok(v)
}

/// `kubeVersions:` — environment or cluster name to version.
pub(super) fn versions(
    d: &Decoder,
    node: &Node,
) -> Result<IndexMap<String, Spanned<String>>, ConfigError> {
    let mut out = IndexMap::new();
    for e in d.map(node, "kubeVersions", &[])? {
        out.insert(e.key.clone(), version(d, &e.value)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::decoder::error_at;

    #[test]
    fn invalid_versions_name_their_line() {
        let (line, msg) = error_at("environments: [dev]\nkubeVersion: 1.30\n");
        assert_eq!(
            (line, msg.as_str()),
            (2, "kubeVersion must be a quoted string")
        );
        let (line, msg) = error_at("kubeVersions:\n  dev: \"1.32\"\n  prod: \"1\"\n");
        assert_eq!(
            (line, msg.as_str()),
            (3, "kubeVersion `1` is not of the form MAJOR.MINOR")
        );
        let (line, msg) = error_at("kubeVersions:\n  prod: \"1.12\"\n");
        assert_eq!(line, 2);
        assert!(msg.contains("unsupported Kubernetes version"), "{msg}");
        let (line, msg) = error_at("kubeVersions: [\"1.30\"]\n");
        assert_eq!(
            (line, msg.as_str()),
            (1, "kubeVersions must be a mapping, not a list")
        );
    }
}
