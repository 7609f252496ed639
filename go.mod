module github.com/nodekeeper/nodekeeper

go 1.26
