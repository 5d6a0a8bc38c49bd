"""Writers: the canonical model written back as a framework source (today: Jekyll pages,
`cfexport convert --to jekyll`). A writer reads only the model, like an exporter."""
