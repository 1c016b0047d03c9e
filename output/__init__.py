"""What Lurewatch hands to people: the Datasette review app (`output.review`) and partner exports (`output.export`)."""
