"""Errors of the command line itself: who is acting, and mistakes in how a command is typed.

Every error of this area ends the command with exit code 2 (a usage mistake: nothing was
tried), where a refusal of the engine ends it with exit code 1.
"""

from workbook_engine.errors import define

AREA = "command line"

ACTOR_REQUIRED = define(
    "actor-required", "Who is acting is not known",
    "Give `--as STAFF` before the command (an id, an e-mail address or a full name), set "
    "WORKBOOK_ENGINE_AS, or map your login to a member of staff under `logins:` in "
    "rules/cli.yaml.", area=AREA)
USAGE = define(
    "usage", "The command is not typed as it should be",
    "Correct the option or value the message names; `workbook-engine COMMAND --help` lists "
    "a command's options.", area=AREA)
