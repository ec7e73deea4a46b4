"""The units' web page (`guidefund portal`, issue 15): a secret link per unit, an upload checked
at once by the same reader and rules as `guidefund check`, the same custody as the inbox, and
the office's overview. A room of its own beside the flows: it uses intake, evaluation, the
writers and the warehouse, and only the CLI imports it."""
