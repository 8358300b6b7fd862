//! Parsed values: a value that passed the rules has its own type, so the rest of the code
//! cannot be handed one that did not.

pub mod client_address;
pub mod conversation_ids;
pub mod email;
pub mod email_domains;
pub mod enums;
pub mod guest_end;
pub mod ids;
pub mod invitee;
pub mod mobile;
pub mod name;
pub mod next_path;
pub mod nhs_number;
pub mod ods_code;
pub mod paging;
pub mod password;
pub mod text;
pub mod token;
pub mod workspace_name;

pub use conversation_ids::*;
pub use email::EmailAddress;
pub use email_domains::EmailDomains;
pub use enums::*;
pub use ids::*;
pub use invitee::Invitee;
pub use mobile::MobileNumber;
pub use name::PersonName;
pub use next_path::NextPath;
pub use nhs_number::NhsNumber;
pub use ods_code::OdsCode;
pub use password::Password;
pub use text::{Text, TextRules};
pub use token::{Token, TokenPurpose};
pub use workspace_name::WorkspaceName;

/// Why a value was refused: a sentence to show beside its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DomainError(pub String);

impl DomainError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}
