//! Cards: the platform-neutral [`Card`], the message templates that produce one per message
//! kind and locale, the renderers that turn it into each platform's JSON, and the outbox items
//! that send and update cards.

pub mod kind;
pub mod message;
pub mod model;
pub mod recipient;
pub mod render;
pub mod store;
pub mod taps;
pub mod templates;

pub use kind::{DEFAULT_LOCALE, LOCALES, MessageKind};
pub use message::{CardError, Notice};
pub use model::{Button, ButtonStyle, Card, Emphasis, Row, Status};
pub use recipient::Recipient;
pub use templates::Templates;
