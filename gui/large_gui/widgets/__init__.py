"""The explorer's panels; each binds to :class:`large_gui.state.ExplorerState` and owns no model logic."""
