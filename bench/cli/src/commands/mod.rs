//! One file per subcommand that does the work itself (`compare` and `report`
//! have folders of their own): each turns its flags into the libraries'
//! settings through `cli::convert`, runs, and prints one line of what it did.

pub mod drain;
pub mod export;
pub mod generate;
pub mod publish;
pub mod verify;
