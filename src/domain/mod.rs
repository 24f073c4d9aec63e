pub mod channel;
pub mod customer;
pub mod group;
