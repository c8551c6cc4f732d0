"""Moving data in and out: JSON (lossless), Markdown folders, jrnl."""
