namespace sandbox {}
