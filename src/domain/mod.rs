pub mod customer;
pub mod group;
