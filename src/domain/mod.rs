pub mod customer;
