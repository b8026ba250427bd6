//! The orchestrator: arguments resolved once into settings, the stages run in order, and the
//! library side of every subcommand (`check`, `graph`, `diff`, `init`). Nothing below `app`
//! imports it.

pub mod changes;
pub mod check;
pub mod drift;
pub mod init;
pub mod repo_input;
pub mod roots;
