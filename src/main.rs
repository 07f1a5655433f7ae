//! The `rkdump` binary: parses the command line and hands over to the library.

fn main() {
    println!("rkdump {}", env!("CARGO_PKG_VERSION"));
}
