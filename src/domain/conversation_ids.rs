//! Typed ids of the conversations feature: patients, message templates, conversations.

use super::ids::id_type;

id_type!(PatientId);
id_type!(TemplateId);
id_type!(ConversationId);
