// hint-script.js is a classic script for <script src>, not a module: nothing to import.
export {};
