//! Renderers: a platform-neutral [`Card`](crate::cards::Card) as each platform's JSON, with the
//! platforms' documented size limits enforced by cutting text ([`limits`]), so an over-long card
//! is shortened instead of refused at send time.

pub mod limits;
