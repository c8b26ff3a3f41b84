"""doit entry point: `doit encode input=IN output=OUT` runs the same graph as `drapto encode IN OUT`.

`doit list` shows the tasks; `doit forget` makes every step run again. Settings come from the config
file and DRAPTO_* environment variables, as for the drapto command.
"""

from doit import get_var

from drapto.graph.doitrun import dodo_namespace
from drapto.shell.progress import PlainReporter

globals().update(dodo_namespace(get_var("input"), get_var("output"), PlainReporter()))
