//! State: the record of what was applied, where it lives, and the lock that guards it.

mod atomic;
mod backend;
mod codec;
pub mod crypt;
mod edit;
pub mod interrupt;
mod journal;
pub mod kubernetes;
mod local;
mod lock;
mod migrate;
mod model;
mod record;
pub mod s3;
mod worker;

pub use atomic::{create_private_dir, replace_file};
pub use backend::{open_backend, open_backend_for, Backend, Changed, LockGuard, BACKEND_KINDS};
pub use codec::{decode, encode};
pub use crypt::{Encryption, KeySource, ENCRYPTION_SETTINGS};
pub use edit::{move_address, not_in_state, remove_address};
pub use kubernetes::{KubernetesBackend, KUBERNETES_SETTINGS};
pub use local::{LocalBackend, LOCAL_SETTINGS};
pub use lock::{command_line_for_display, hostname, locked_message, FileLock, LockInfo};
pub use migrate::{migrate, Migrated};
pub use model::{OutputState, ResourceState, State, STATE_VERSION};
pub use record::{open_checked, record_path, recorded};
pub use s3::{S3Backend, S3_SETTINGS};
