"""`drapto report`: the data (`data`), what reads the inputs (`inputs`), the page (`page`) and its
charts (`charts`)."""
