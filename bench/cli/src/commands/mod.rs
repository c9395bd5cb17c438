//! One file per command: each turns its flags into the libraries' settings
//! (through `convert`), runs, and prints one line of what it did; the lines
//! more than one command prints are in [`describe`].

pub mod describe;
pub mod drain;
pub mod export;
pub mod generate;
pub mod publish;
pub mod verify;
