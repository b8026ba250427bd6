//! The orchestrator: arguments resolved once into settings, the stages run in order, and the
//! library side of every subcommand (`check`, `graph`, `diff`, `init`, `render`). Nothing
//! below `app` imports it.

mod build_uses;
pub mod changes;
pub mod check;
pub mod commands;
pub mod drift;
pub mod handover;
pub mod init;
mod merge;
mod object_diff;
pub mod object_scope;
pub mod objects;
pub mod pr_diff;
mod pr_diff_ref;
pub mod pr_diff_report;
mod ref_paths;
pub mod repo;
pub mod repo_input;
mod results_memo;
pub mod root_focus;
pub mod roots;
mod schedule;
pub mod select;
pub mod settings;
