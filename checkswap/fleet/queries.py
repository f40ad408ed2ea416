"""The queries ``fleet`` sends, as data: what ``fleet --help`` counts without loading the HTTP
client and the ranking that sends them (~60 ms of its start-up)."""

# What ask() sends, in order, whatever the number of hosts: (name, range or instant). Its
# length is the one count of queries (the progress bar's total, the docs' figure, the tests').
QUERIES = (
    ("swap-in total", "instant"),
    ("swap-out total", "instant"),
    ("swap-in rate", "range"),
    ("swap-out rate", "range"),
    ("PSI where swap-in thrashes", "range"),
    ("refaults where swap-in thrashes without PSI", "range"),
    ("swap used now", "instant"),
    ("swap used peak", "instant"),
    ("findings", "instant"),
    ("top holders of swap", "instant"),
    ("top cgroups by swap", "instant"),
    ("top swap-in waiters", "instant"),
)
