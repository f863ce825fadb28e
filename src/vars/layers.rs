//! The precedence layers of a host's variables, lowest first.

use indexmap::IndexMap;

/// Variables by name, in the order they were written.
pub type VarMap = IndexMap<String, serde_json::Value>;

/// Where a variable came from; a later layer wins over an earlier one. This follows Ansible's
/// precedence for the sources Baton has (role defaults and facts gathering come later).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// Connection defaults: `ansible_host` (the inventory name), and whatever the engine
    /// resolved for `ansible_port` / `ansible_user` / `ansible_connection`.
    Defaults,
    /// Host and group vars, already merged by the inventory layer.
    Inventory,
    /// Play `vars:` and `vars_files:`.
    Play,
    /// Block and task `vars:`, for one task.
    Task,
    /// `register` results and `set_fact`, kept for the rest of the run.
    Facts,
    /// `-e` on the command line.
    Extra,
    /// The loop variable (`item`, `loop_var`) and `ansible_loop`, which override everything
    /// for one iteration as in Ansible.
    Loop,
    /// `inventory_hostname`, `groups`, `group_names`, `ansible_play_hosts`, `playbook_dir`.
    Magic,
}

impl Layer {
    /// Every layer, lowest precedence first.
    pub const ALL: [Layer; 8] = [
        Layer::Defaults,
        Layer::Inventory,
        Layer::Play,
        Layer::Task,
        Layer::Facts,
        Layer::Extra,
        Layer::Loop,
        Layer::Magic,
    ];

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// Whether values in this layer are templates to resolve. Registered results, loop items
    /// and magic vars are data: a command's stdout that happens to contain `{{` stays as is
    /// (Ansible marks them unsafe for the same reason).
    pub fn is_templated(self) -> bool {
        !matches!(self, Layer::Facts | Layer::Loop | Layer::Magic)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Defaults => "defaults",
            Layer::Inventory => "inventory",
            Layer::Play => "play",
            Layer::Task => "task",
            Layer::Facts => "facts",
            Layer::Extra => "extra",
            Layer::Loop => "loop",
            Layer::Magic => "magic",
        }
    }
}
