//! What the project builds: the widget's release bundle, the edge function's Supabase bundle,
//! and that bundle run under Deno.

pub mod deno_function;
pub mod supabase;
pub mod supabase_check;
pub mod widget;
