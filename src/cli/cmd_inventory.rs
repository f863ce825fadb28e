//! `baton inventory`: the inventory as Baton reads it, in ansible-inventory's shapes.

use super::args::InventoryArgs;
use super::settings::load_inventory;
use crate::report::pretty_json;

pub fn run(args: InventoryArgs) -> miette::Result<u8> {
    let inventory = load_inventory(&args.common)?;
    if let Some(host) = &args.host {
        outln!("{}", pretty_json(&inventory.host_json(host)?));
    } else if let Some(group) = &args.graph {
        out!("{}", inventory.graph(Some(group), args.vars)?);
    } else {
        outln!("{}", pretty_json(&inventory.to_list_json()));
    }
    Ok(0)
}
