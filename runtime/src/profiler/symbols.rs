//! Function names for sampled addresses, from the symbol tables of the program's mapped ELF
//! files (`.symtab`, else `.dynsym`), within a few MB.
//!
//! Each file's functions are kept as a sorted table of 16 bytes a function; a name is read
//! from the file (and demangled) the first time a sample needs it. DWARF is not read:
//! parsing it for inlined functions and source lines (what `backtrace::resolve` does) held
//! 65–80 MB for a 32 MB test binary, several times what the profiler may cost. So an inlined
//! function's samples count in the function it was inlined into, and frames have no line.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use object::read::elf::{FileHeader as _, ProgramHeader as _, SectionHeader as _, Sym as _};

/// How often an address in no known mapping may have `/proc/self/maps` read again.
const MAPS_READ_EVERY: Duration = Duration::from_secs(1);

/// A function a sampled address is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Function {
    /// Demangled, without the hash; `[libfoo.so]` for code of a file no symbol covers,
    /// `[unknown]` outside every mapped file.
    pub(crate) name: Arc<str>,
    /// The file it is in (executable or shared library).
    pub(crate) file: Option<Arc<str>>,
}

/// A function, by its number in [`Symbols`]: stacks are kept as these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FunctionId(u32);

/// Names for addresses of this process, for the life of the profiler.
#[derive(Debug, Default)]
pub(crate) struct Symbols {
    /// The executable mappings, sorted by start, from `/proc/self/maps`.
    mappings: Vec<Mapping>,
    /// Each mapped file met: its label and function table (`None` where it cannot be
    /// read), and its index by path.
    files: Vec<(Arc<str>, Option<SymbolFile>)>,
    file_index: HashMap<PathBuf, usize>,
    /// When `/proc/self/maps` was last read.
    read_maps_at: Option<Instant>,
    /// Every function met so far, by id.
    functions: Vec<Function>,
    /// Ids of functions with a symbol (file index, index in its table) and of the rest (by
    /// name).
    symbol_ids: HashMap<(usize, u32), FunctionId>,
    other_ids: HashMap<Arc<str>, FunctionId>,
}

/// One executable mapping of a file.
#[derive(Debug)]
struct Mapping {
    start: usize,
    end: usize,
    /// Where in the file the mapping starts.
    offset: u64,
    /// The file, or a pseudo-file such as `[vdso]`.
    path: PathBuf,
}

/// One ELF file's functions.
#[derive(Debug)]
struct SymbolFile {
    file: File,
    /// `PT_LOAD` segments: file offset, size in the file, address in the file's own space.
    segments: Vec<(u64, u64, u64)>,
    /// Sorted by address.
    functions: Vec<FunctionSymbol>,
    /// Where the symbols' string table starts in the file.
    strings_at: u64,
}

#[derive(Debug, Clone, Copy)]
struct FunctionSymbol {
    address: u64,
    size: u32,
    /// Offset of the name in the string table.
    name: u32,
}

impl Symbols {
    /// The function at `address`: the interrupted instruction for the innermost frame, a
    /// return address (so the call is the instruction before it) for the others.
    pub(crate) fn function_id(&mut self, address: usize, innermost: bool) -> FunctionId {
        let lookup = if innermost {
            address
        } else {
            address.saturating_sub(1)
        };
        let Some(index) = self.mapping_of(lookup) else {
            return self.other("[unknown]", None);
        };
        let mapping = &self.mappings[index];
        let in_file = (lookup - mapping.start) as u64 + mapping.offset;
        let file_index = match self.file_index.get(&mapping.path) {
            Some(file_index) => *file_index,
            None => {
                let path = mapping.path.clone();
                self.files.push((label(&path), SymbolFile::read(&path)));
                self.file_index.insert(path, self.files.len() - 1);
                self.files.len() - 1
            }
        };
        let (label, file) = &self.files[file_index];
        let label = label.clone();
        let Some(symbol) = file.as_ref().and_then(|file| file.symbol_at(in_file)) else {
            return self.other(&unnamed(&label), Some(label));
        };
        if let Some(id) = self.symbol_ids.get(&(file_index, symbol)) {
            return *id;
        }
        let name = file
            .as_ref()
            .and_then(|file| file.name(symbol))
            .map(|mangled| format!("{:#}", rustc_demangle::demangle(&mangled)))
            .unwrap_or_else(|| unnamed(&label));
        let id = self.push(Function {
            name: Arc::from(name),
            file: Some(label),
        });
        self.symbol_ids.insert((file_index, symbol), id);
        id
    }

    /// The function numbered `id`.
    pub(crate) fn function(&self, id: FunctionId) -> &Function {
        &self.functions[id.0 as usize]
    }

    /// The id of code without a symbol, named `name`.
    fn other(&mut self, name: &str, file: Option<Arc<str>>) -> FunctionId {
        if let Some(id) = self.other_ids.get(name) {
            return *id;
        }
        let name: Arc<str> = Arc::from(name);
        let id = self.push(Function {
            name: name.clone(),
            file,
        });
        self.other_ids.insert(name, id);
        id
    }

    fn push(&mut self, function: Function) -> FunctionId {
        self.functions.push(function);
        FunctionId(u32::try_from(self.functions.len() - 1).unwrap_or(u32::MAX))
    }

    /// The mapping holding `address`, reading `/proc/self/maps` again (at most once a
    /// second) when none does: a library may have been loaded since.
    fn mapping_of(&mut self, address: usize) -> Option<usize> {
        let find = |mappings: &[Mapping]| {
            let index = mappings.partition_point(|mapping| mapping.start <= address);
            index
                .checked_sub(1)
                .filter(|index| address < mappings[*index].end)
        };
        if let Some(index) = find(&self.mappings) {
            return Some(index);
        }
        if self
            .read_maps_at
            .is_some_and(|at| at.elapsed() < MAPS_READ_EVERY)
        {
            return None;
        }
        self.read_maps_at = Some(Instant::now());
        self.mappings = executable_mappings();
        find(&self.mappings)
    }
}

impl SymbolFile {
    /// The function table of the ELF file at `path`; `None` if it cannot be read.
    fn read(path: &Path) -> Option<SymbolFile> {
        type Elf = object::elf::FileHeader64<object::Endianness>;
        let file = match path.to_str()?.strip_suffix(" (deleted)") {
            // The program's own file was replaced (a deployment) while it runs: the kernel
            // still has it.
            Some(_) if std::fs::read_link("/proc/self/exe").ok()? == path => {
                File::open("/proc/self/exe").ok()?
            }
            Some(_) => return None,
            None => File::open(path).ok()?,
        };
        // Only the headers and the symbol table are read, through a cache dropped below.
        let cache = object::read::ReadCache::new(file.try_clone().ok()?);
        let header = Elf::parse(&cache).ok()?;
        let endian = header.endian().ok()?;
        let sections = header.sections(endian, &cache).ok()?;
        let mut table = sections
            .symbols(endian, &cache, object::elf::SHT_SYMTAB)
            .ok()?;
        if table.is_empty() {
            table = sections
                .symbols(endian, &cache, object::elf::SHT_DYNSYM)
                .ok()?;
        }
        let strings_at = sections
            .section(table.string_section())
            .ok()?
            .sh_offset(endian);
        let mut functions: Vec<FunctionSymbol> = table
            .symbols()
            .iter()
            .filter(|symbol| {
                matches!(
                    symbol.st_type(),
                    object::elf::STT_FUNC | object::elf::STT_GNU_IFUNC
                ) && symbol.st_shndx(endian) != object::elf::SHN_UNDEF
                    && symbol.st_value(endian) != 0
            })
            .map(|symbol| FunctionSymbol {
                address: symbol.st_value(endian),
                size: u32::try_from(symbol.st_size(endian)).unwrap_or(u32::MAX),
                name: symbol.st_name(endian),
            })
            .collect();
        functions.sort_unstable_by_key(|function| function.address);
        functions.shrink_to_fit();
        let segments = header
            .program_headers(endian, &cache)
            .ok()?
            .iter()
            .filter(|segment| segment.p_type(endian) == object::elf::PT_LOAD)
            .map(|segment| {
                (
                    segment.p_offset(endian),
                    segment.p_filesz(endian),
                    segment.p_vaddr(endian),
                )
            })
            .collect();
        Some(SymbolFile {
            file,
            segments,
            functions,
            strings_at,
        })
    }

    /// The index of the function covering `in_file` (an offset in the file).
    fn symbol_at(&self, in_file: u64) -> Option<u32> {
        let (offset, _, address) = *self
            .segments
            .iter()
            .find(|(offset, size, _)| (*offset..offset + size).contains(&in_file))?;
        let address = in_file - offset + address;
        let index = self
            .functions
            .partition_point(|function| function.address <= address)
            .checked_sub(1)?;
        let function = self.functions[index];
        // A size of 0 (hand-written assembly) covers up to the next function.
        if function.size != 0 && address >= function.address + u64::from(function.size) {
            return None;
        }
        u32::try_from(index).ok()
    }

    /// The (mangled) name of the function at `index`, read from the file.
    fn name(&self, index: u32) -> Option<String> {
        let function = self.functions.get(index as usize)?;
        self.string(self.strings_at + u64::from(function.name))
    }

    /// The NUL-terminated string at `at` in the file, up to 4 KiB.
    fn string(&self, at: u64) -> Option<String> {
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 256];
        while bytes.len() < 4096 {
            let read = self
                .file
                .read_at(&mut chunk, at + bytes.len() as u64)
                .ok()?;
            if read == 0 {
                break;
            }
            match chunk[..read].iter().position(|byte| *byte == 0) {
                Some(end) => {
                    bytes.extend_from_slice(&chunk[..end]);
                    return Some(String::from_utf8_lossy(&bytes).into_owned());
                }
                None => bytes.extend_from_slice(&chunk[..read]),
            }
        }
        None
    }
}

/// A file as profiles name it: its file name.
fn label(path: &Path) -> Arc<str> {
    Arc::from(path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    ))
}

/// The name of code in `file` that no symbol covers: `[libfoo.so]`, or `[vdso]` as it is.
fn unnamed(file: &str) -> String {
    if file.starts_with('[') {
        file.to_owned()
    } else {
        format!("[{file}]")
    }
}

/// The executable file mappings of this process, sorted by start.
fn executable_mappings() -> Vec<Mapping> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let mut mappings: Vec<Mapping> = maps.lines().filter_map(parse_mapping).collect();
    mappings.sort_unstable_by_key(|mapping| mapping.start);
    mappings
}

/// One line of `/proc/self/maps` (`start-end perms offset dev inode path`), if it maps a
/// file (or a pseudo-file) executable.
fn parse_mapping(line: &str) -> Option<Mapping> {
    let mut fields = line.splitn(6, ' ');
    let (start, end) = fields.next()?.split_once('-')?;
    let permissions = fields.next()?;
    let offset = fields.next()?;
    let path = fields.nth(2)?.trim_start();
    if !permissions.contains('x') || path.is_empty() {
        return None;
    }
    Some(Mapping {
        start: usize::from_str_radix(start, 16).ok()?,
        end: usize::from_str_radix(end, 16).ok()?,
        offset: u64::from_str_radix(offset, 16).ok()?,
        path: PathBuf::from(path),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[inline(never)]
    fn a_function_of_this_test() -> usize {
        std::hint::black_box(a_function_of_this_test as fn() -> usize as usize)
    }

    #[test]
    fn addresses_of_this_binary_and_of_the_c_library_are_named() {
        let mut symbols = Symbols::default();
        let own = symbols.function_id(a_function_of_this_test(), true);
        let own = symbols.function(own).clone();
        assert!(own.name.ends_with("a_function_of_this_test"), "{own:?}");
        assert!(own.file.is_some(), "{own:?}");
        // A return address just past the function's start is still in it.
        let again = symbols.function_id(a_function_of_this_test() + 1, false);
        assert_eq!(symbols.function(again), &own);
        let libc = symbols.function_id(libc::getpid as *const () as usize, true);
        let libc = symbols.function(libc);
        assert!(libc.name.contains("getpid"), "{libc:?}");
        let nowhere = symbols.function_id(8, true);
        assert_eq!(&*symbols.function(nowhere).name, "[unknown]");
    }

    #[test]
    fn a_maps_line_is_read_only_for_executable_files() {
        let line = "7f0000001000-7f0000002000 r-xp 00001000 08:01 1234    /usr/lib/libc.so.6";
        let mapping = parse_mapping(line).expect("a mapping");
        assert_eq!(
            (mapping.start, mapping.end, mapping.offset),
            (0x7f00_0000_1000, 0x7f00_0000_2000, 0x1000)
        );
        assert_eq!(mapping.path, Path::new("/usr/lib/libc.so.6"));
        assert!(parse_mapping("7f0-7f1 rw-p 00000000 08:01 1234 /usr/lib/libc.so.6").is_none());
        assert!(parse_mapping("7f0-7f1 r-xp 00000000 00:00 0 ").is_none());
    }
}
