//! The migration files of each service's database, as the program that owns the database
//! was built with. `dbtool::source::embedded` reads them; dbtool itself reads the folders.

include!(concat!(env!("OUT_DIR"), "/files.rs"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_of_each_folder_is_compiled_in() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
        for (files, folder) in [(CATALOG, "catalog"), (ACTIVITY, "activity")] {
            let on_disk = std::fs::read_dir(root.join(folder)).unwrap().count();
            assert_eq!(files.len(), on_disk, "{folder}");
            for (name, text) in files {
                let expected = std::fs::read_to_string(root.join(folder).join(name)).unwrap();
                assert_eq!(*text, expected, "{folder}/{name}");
            }
        }
    }
}
