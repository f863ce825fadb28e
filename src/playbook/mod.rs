//! Playbooks: Ansible's playbook language loaded into types, with source positions.

pub mod error;
pub mod keywords;
pub mod library;
pub mod load;
pub mod model;
pub mod rollout;

pub use error::PlaybookError;
pub use load::load_playbook;
pub use model::Playbook;
