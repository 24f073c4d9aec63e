//! Cards: the platform-neutral [`Card`], the message templates that produce one per message
//! kind and locale, the renderers that turn it into each platform's JSON, and the outbox items
//! that send and update cards.

pub mod kind;
pub mod model;
pub mod templates;

pub use kind::{DEFAULT_LOCALE, LOCALES, MessageKind};
pub use model::{Button, ButtonStyle, Card, Emphasis, Row, Status};
